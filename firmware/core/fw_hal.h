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

/* Why a board's current sensor gave no reading (drivers/fw_ina2xx: INA219/INA226). */
typedef enum {
    FW_SENSOR_OK = 0,
    FW_SENSOR_NOT_READY, /* no conversion has completed since the sensor was configured */
    FW_SENSOR_NACK,      /* nothing answered at the sensor's address, or it refused a byte */
    FW_SENSOR_BUS,       /* bus error, or a register did not hold what was written */
    FW_SENSOR_WRONG_ID,  /* something answered that is not the configured sensor */
    FW_SENSOR_OVERFLOW,  /* the sensor flagged its result out of range (current/power math, shunt ADC) */
    FW_SENSOR_CONFIG     /* shunt and full-scale current the sensor cannot represent */
} fw_sensor_err;

/* A board's own current/voltage sensor on its supply rail. `start` probes and configures
 * it (at every boot) and gives the time one reading takes; `read` returns the latest
 * completed conversion. A board without one leaves `start` NULL; POWER is then modelled
 * by `fw_power_meter` and INFO does not declare POWER_SENSOR. */
typedef struct {
    void *ctx;
    fw_sensor_err (*start)(void *ctx, uint32_t *conversion_us);
    fw_sensor_err (*read)(void *ctx, uint16_t *voltage_mv, uint32_t *current_ua);
} fw_power_sensor;

/* The inference marker: a GPIO the core drives high for the duration of each invoke, so
 * an external meter sampling it can cut energy per inference (MLPerf Tiny's timestamp
 * line). `set` NULL: the board has none. */
typedef struct {
    void *ctx;
    void (*set)(void *ctx, int high);
} fw_marker;

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
    fw_power_sensor sensor; /* optional: measured POWER instead of `power` */
    fw_marker marker;       /* optional */
} fw_hal;

#endif
