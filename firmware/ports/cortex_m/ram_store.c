/* Slot storage in RAM for QEMU. It lives in .noinit, which startup code does not
 * clear, so slots and their metadata survive a REBOOT (a warm reset keeps RAM); they
 * are lost when QEMU exits, like flash that is reprogrammed with the firmware. */
#include <string.h>

#include "board.h"

#define MAGIC 0x464C5452u /* "FLTR" */

typedef struct {
    uint32_t magic;
    uint32_t boot_reason_plus_one; /* 0: nothing noted, a cold start */
    fw_persist persist;
    uint8_t slot[FW_SLOTS][BOARD_SLOT_BYTES];
} ram_image;

__attribute__((section(".noinit"), aligned(16))) static ram_image g_ram;

static int load(void *ctx, fw_persist *p)
{
    (void)ctx;
    if (g_ram.magic != MAGIC)
        return 1;
    *p = g_ram.persist;
    return 0;
}

static int save(void *ctx, const fw_persist *p)
{
    (void)ctx;
    g_ram.persist = *p;
    g_ram.magic = MAGIC;
    return 0;
}

static int erase(void *ctx, uint8_t slot)
{
    (void)ctx;
    memset(g_ram.slot[slot], 0xFF, BOARD_SLOT_BYTES);
    return 0;
}

static int write(void *ctx, uint8_t slot, uint32_t off, const uint8_t *p, uint32_t n)
{
    (void)ctx;
    memcpy(g_ram.slot[slot] + off, p, n);
    return 0;
}

static const uint8_t *map(void *ctx, uint8_t slot)
{
    (void)ctx;
    return g_ram.slot[slot];
}

fw_store board_ram_store(void)
{
    fw_store s = {NULL, BOARD_SLOT_BYTES, load, save, erase, write, map};
    return s;
}

uint8_t board_take_boot_reason(void)
{
    /* Without the magic the RAM is whatever power-on left: a cold start. */
    uint8_t reason = g_ram.magic == MAGIC && g_ram.boot_reason_plus_one ? (uint8_t)(g_ram.boot_reason_plus_one - 1u)
                                                                         : FW_BOOT_POWER_ON;
    g_ram.boot_reason_plus_one = 0;
    return reason;
}

void board_note_reboot(void) { g_ram.boot_reason_plus_one = FW_BOOT_REQUESTED + 1u; }
void board_note_fault(void) { g_ram.boot_reason_plus_one = FW_BOOT_FAULT + 1u; }
