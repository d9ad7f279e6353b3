/* A register-level model of an INA219 or INA226 on an I2C bus, for ports without the chip
 * (POSIX, QEMU): the real driver (drivers/fw_ina2xx.c) talks to it through fw_i2c exactly
 * as to the part. The current through its shunt comes from the port's power model: idle
 * current, and the running current while the inference marker (fw_marker) is high. The
 * model converts continuously at the rate its configuration register sets (the driver's
 * datasheet table), each conversion the average current over the cycle; it quantises the
 * shunt and bus voltages to the chip's LSBs, saturates the shunt ADC at its range, and
 * computes current and power from the calibration register with the chip's integer math,
 * flagging overflow. Not modelled: noise, the alert pin, triggered modes, and that a real
 * part samples the shunt only during the shunt slots of its cycle. */
#ifndef SIM_INA_H
#define SIM_INA_H
#include "fw_ina2xx.h"
#include "model_power.h"

typedef struct {
    fw_ina_chip chip;
    uint8_t addr;
    uint32_t shunt_uohm;
    int32_t offset_nv;          /* the shunt input's offset voltage (a datasheet's few uV) */
    const model_power *supply;  /* supply voltage; idle and running currents */
    const fw_clock *clock;
    uint8_t nack;               /* nonzero: the part has gone from the bus (every transfer NACKs) */
    /* the part's state */
    uint16_t reg[8];            /* config, shunt, bus, power, current, calibration, mask/enable, alert limit */
    uint8_t ptr;
    uint8_t busy;
    uint64_t cycle_start, last_us, charge; /* charge: uA x us since cycle_start */
} sim_ina;

void sim_ina_init(sim_ina *s, fw_ina_chip chip, uint8_t addr, uint32_t shunt_uohm, const model_power *supply,
                  const fw_clock *clock);
fw_i2c sim_ina_bus(sim_ina *s);
/* The inference marker line, wired to the model: high = the core is running the model. */
fw_marker sim_ina_marker(sim_ina *s);

#endif
