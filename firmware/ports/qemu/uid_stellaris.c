/* The LM3S6965's uid: the MAC address in the Stellaris user registers, which QEMU fills
 * from the NIC (`-nic user,mac=...`), so several QEMU boards get distinct uids. */
#include "board.h"
#include "cortex_m.h"

#define FLASH_USER0 REG32(0x400FE1E0u)
#define FLASH_USER1 REG32(0x400FE1E4u)

void board_uid(uint8_t uid[BOARD_UID_BYTES])
{
    uint32_t u0 = FLASH_USER0, u1 = FLASH_USER1;
    uid[0] = (uint8_t)u0;
    uid[1] = (uint8_t)(u0 >> 8);
    uid[2] = (uint8_t)(u0 >> 16);
    uid[3] = (uint8_t)u1;
    uid[4] = (uint8_t)(u1 >> 8);
    uid[5] = (uint8_t)(u1 >> 16);
}
