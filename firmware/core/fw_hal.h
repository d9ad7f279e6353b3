/* The hardware-abstraction interfaces a port implements: UART byte output, a
 * microsecond clock, model slot storage, a power reading and an inference runner.
 * Each is a context pointer plus function pointers, so host tests, the POSIX port,
 * QEMU and real boards plug different implementations into the same core. */
#ifndef FW_HAL_H
#define FW_HAL_H
#include <stddef.h>
#include <stdint.h>

#include "fw_cobs.h"
#include "fw_msg.h"

/* UART output. Input is pushed by the port with fw_device_input(). A port may drop
 * bytes when nobody listens (a real UART does too); the protocol recovers. */
typedef struct {
    void *ctx;
    fw_put_fn write;
} fw_uart;

/* Monotonic microseconds since boot. */
typedef struct {
    void *ctx;
    uint64_t (*now_us)(void *ctx);
} fw_clock;

/* What the slot store persists: both slots' metadata and the boot counter. */
typedef struct {
    fw_slot_info info;
    uint32_t arena_used; /* from the COMMIT test-load, answered again on a repeated COMMIT */
} fw_slot_meta;

typedef struct {
    uint32_t boot_count;
    fw_slot_meta slot[FW_SLOTS];
} fw_persist;

/* Two model slots of slot_bytes each. Slot contents must be readable in place (`map`):
 * memory-mapped flash on a board, RAM or a file image elsewhere. Functions returning
 * int return 0 on success. */
typedef struct {
    void *ctx;
    uint32_t slot_bytes;
    int (*load)(void *ctx, fw_persist *p); /* 0: loaded; nonzero: no saved state yet */
    int (*save)(void *ctx, const fw_persist *p);
    int (*erase)(void *ctx, uint8_t slot);
    int (*write)(void *ctx, uint8_t slot, uint32_t offset, const uint8_t *p, uint32_t n);
    const uint8_t *(*map)(void *ctx, uint8_t slot);
} fw_store;

/* Supply voltage and current. A board with a meter ignores `model_running`; the
 * modelled meters of the POSIX and QEMU ports use it to draw active current. */
typedef struct {
    void *ctx;
    void (*read)(void *ctx, int model_running, uint16_t *voltage_mv, uint32_t *current_ua);
} fw_power_meter;

/* One output tensor after an invoke. */
typedef struct {
    uint8_t dtype; /* TFLite TensorType */
    float scale;
    int32_t zero_point;
    const uint8_t *data;
    uint32_t bytes;
} fw_output;

#define FW_WHY_SIZE 48u /* room for an error text such as the unsupported op's name */

/* Runs models. `check` test-loads without disturbing a running model and reports the
 * arena bytes needed in *arena (also on ARENA_TOO_SMALL) and a reason in `why`.
 * `invoke` feeds input number `input_id` of the board's input sequence. */
typedef struct {
    void *ctx;
    uint32_t arena_bytes;
    fw_err (*check)(void *ctx, const uint8_t *model, uint32_t size, uint32_t *arena, char why[FW_WHY_SIZE]);
    fw_err (*start)(void *ctx, const uint8_t *model, uint32_t size);
    void (*stop)(void *ctx);
    fw_err (*invoke)(void *ctx, uint32_t input_id, fw_output *out);
    const fw_op_list *ops; /* what check() accepts (fw_msg.h), answered to RUNTIME; NULL: not declared */
} fw_runner;

typedef struct {
    fw_uart uart;
    fw_clock clock;
    fw_store store;
    fw_power_meter power;
    fw_runner runner;
} fw_hal;

#endif
