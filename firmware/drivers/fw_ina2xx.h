/* Driver for TI's INA219 and INA226 current/power monitors over I2C (fw_i2c.h): probe,
 * reset, configuration (conversion times, averaging, gain), the calibration register, and
 * readings converted from the registers (shunt voltage, bus voltage, current, power).
 * `fw_ina_sensor` presents it as the core's fw_power_sensor (fw_hal.h).
 *
 * Calibration: the current LSB is the smallest whole number of nA for which `max_ua`
 * fits the 15-bit current register and CAL its register (15 bits used); CAL = 0.04096 / (LSB x R) (INA219) or
 * 0.00512 / (LSB x R) (INA226), as the datasheets give it. The chip then computes
 * current = shunt x CAL / 4096 (2048) and power = current x bus / 5000 (20000) itself. */
#ifndef FW_INA2XX_H
#define FW_INA2XX_H
#include "fw_hal.h"
#include "fw_i2c.h"

typedef enum { FW_INA219 = 219, FW_INA226 = 226 } fw_ina_chip;

/* Register addresses (pointer values). */
enum {
    FW_INA_CONFIG = 0x00, FW_INA_SHUNT = 0x01, FW_INA_BUS = 0x02, FW_INA_POWER = 0x03, FW_INA_CURRENT = 0x04,
    FW_INA_CALIBRATION = 0x05, FW_INA226_MASK = 0x06, FW_INA226_MANUFACTURER = 0xFE, FW_INA226_DIE = 0xFF
};

/* What the datasheets fix. */
#define FW_INA_RESET 0x8000u
#define FW_INA219_CONFIG_RESET 0x399Fu
#define FW_INA226_CONFIG_RESET 0x4127u
#define FW_INA226_MANUFACTURER_TI 0x5449u
#define FW_INA226_DIE_ID 0x2260u
#define FW_INA219_CNVR 0x0002u /* bus register: a conversion completed (cleared by reading POWER) */
#define FW_INA219_OVF 0x0001u  /* bus register: current or power out of range */
#define FW_INA226_CVRF 0x0008u /* mask/enable: a conversion completed (cleared by reading it) */
#define FW_INA226_OVF 0x0004u  /* mask/enable: current or power out of range */

/* Default configurations: continuous shunt and bus conversions, about 10 ms per reading.
 * INA219: 16 V bus range, 12-bit bus (532 us), 12-bit shunt averaged x16 (8.51 ms), gain
 * chosen from the full scale. INA226: x16 averaging of 332 us bus and shunt conversions. */
#define FW_INA219_DEFAULT_ADC 0x01E0u /* BADC 12-bit, SADC 16 samples; PG and MODE added */
#define FW_INA226_DEFAULT_CONFIG 0x4497u

typedef struct {
    fw_ina_chip chip;
    uint8_t addr;        /* 7-bit address, 0x40..0x4F */
    uint32_t shunt_uohm; /* shunt resistance, micro-ohms (0.1 ohm = 100000) */
    uint32_t max_ua;     /* the largest current to measure: sets the current LSB (and the INA219's gain) */
    uint16_t config;     /* configuration register; 0: the default above. Mode must be 7 (continuous). */
} fw_ina_config;

typedef struct {
    int32_t shunt_nv;    /* shunt voltage; negative when current flows from IN- to IN+ */
    uint32_t bus_mv;     /* bus voltage (IN- to GND) */
    int32_t current_ua;  /* from the current register (signed, as the shunt) */
    uint32_t power_uw;   /* from the power register */
} fw_ina_reading;

typedef struct {
    const fw_i2c *bus;
    fw_ina_config cfg;
    uint16_t config_reg;     /* as written */
    uint16_t cal;            /* as written */
    uint32_t current_lsb_na;
    uint32_t conversion_us;  /* time between fresh readings */
    uint8_t converted;       /* a conversion completed since fw_ina_start */
    uint8_t started;
} fw_ina;

/* Time one continuous shunt+bus conversion cycle takes with this configuration register,
 * from the datasheet's tables (averaging included); 0 for a mode other than continuous. */
uint32_t fw_ina_conversion_us(fw_ina_chip chip, uint16_t config);

/* Remember the bus and the configuration; touches nothing. */
void fw_ina_init(fw_ina *ina, const fw_i2c *bus, const fw_ina_config *cfg);
/* Probe (INA226: manufacturer and die id; INA219: the reset value of its configuration),
 * reset, write the configuration and calibration and read both back. */
fw_sensor_err fw_ina_start(fw_ina *ina);
/* The latest completed conversion. FW_SENSOR_NOT_READY until the first one after start;
 * FW_SENSOR_OVERFLOW when the chip flags its math out of range or the shunt ADC is at
 * full scale (the figures would be wrong). */
fw_sensor_err fw_ina_read(fw_ina *ina, fw_ina_reading *r);
/* The driver as the core's power sensor: bus voltage and current, a reverse current
 * (negative shunt voltage: input offset or a back-fed rail) as 0 uA, the wire's unsigned
 * field having no sign. */
fw_power_sensor fw_ina_sensor(fw_ina *ina);

#endif
