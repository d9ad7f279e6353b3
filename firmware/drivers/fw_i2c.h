/* The I2C bus a port implements for the drivers in this folder: 7-bit addresses, a
 * write, and a write then a read with a repeated start (a register pointer, then its
 * bytes). A real board wraps its I2C controller; the POSIX and QEMU ports wrap a
 * register-level sensor model (ports/common/sim_ina.c). */
#ifndef FW_I2C_H
#define FW_I2C_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FW_I2C_OK = 0,
    FW_I2C_NACK_ADDR, /* no device acknowledged the address */
    FW_I2C_NACK_DATA, /* the device refused a byte */
    FW_I2C_BUS        /* arbitration lost, bus stuck, timeout */
} fw_i2c_status;

typedef struct {
    void *ctx;
    fw_i2c_status (*write)(void *ctx, uint8_t addr, const uint8_t *p, size_t n);
    fw_i2c_status (*write_read)(void *ctx, uint8_t addr, const uint8_t *w, size_t wn, uint8_t *r, size_t rn);
} fw_i2c;

#endif
