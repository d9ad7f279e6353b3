#include "fw_ina2xx.h"

#define MODE_CONTINUOUS 7u

/* INA219 ADC settings (BADC/SADC, 4 bits): 9..12-bit single samples, then 12-bit averages
 * of 1..128 samples. Datasheet table 5, us. */
static const uint32_t k_ina219_adc_us[16] = {84, 148, 276, 532, 84, 148, 276, 532,
                                             532, 1060, 2130, 4260, 8510, 17020, 34050, 68100};
/* INA226 conversion times (VBUSCT/VSHCT, 3 bits) and averages (AVG, 3 bits). */
static const uint32_t k_ina226_ct_us[8] = {140, 204, 332, 588, 1100, 2116, 4156, 8244};
static const uint32_t k_ina226_avg[8] = {1, 4, 16, 64, 128, 256, 512, 1024};

uint32_t fw_ina_conversion_us(fw_ina_chip chip, uint16_t config)
{
    if ((config & 7u) != MODE_CONTINUOUS)
        return 0;
    if (chip == FW_INA219)
        return k_ina219_adc_us[(config >> 7) & 15u] + k_ina219_adc_us[(config >> 3) & 15u];
    return (k_ina226_ct_us[(config >> 6) & 7u] + k_ina226_ct_us[(config >> 3) & 7u]) * k_ina226_avg[(config >> 9) & 7u];
}

static fw_sensor_err from_i2c(fw_i2c_status s)
{
    switch (s) {
    case FW_I2C_OK:
        return FW_SENSOR_OK;
    case FW_I2C_NACK_ADDR:
    case FW_I2C_NACK_DATA:
        return FW_SENSOR_NACK;
    default:
        return FW_SENSOR_BUS;
    }
}

/* Registers are 16 bits, most significant byte first. */
static fw_sensor_err rd(const fw_ina *ina, uint8_t reg, uint16_t *v)
{
    uint8_t b[2];
    fw_sensor_err e = from_i2c(ina->bus->write_read(ina->bus->ctx, ina->cfg.addr, &reg, 1, b, 2));
    *v = (uint16_t)(b[0] << 8 | b[1]);
    return e;
}

static fw_sensor_err wr(const fw_ina *ina, uint8_t reg, uint16_t v)
{
    const uint8_t b[3] = {reg, (uint8_t)(v >> 8), (uint8_t)v};
    return from_i2c(ina->bus->write(ina->bus->ctx, ina->cfg.addr, b, 3));
}

void fw_ina_init(fw_ina *ina, const fw_i2c *bus, const fw_ina_config *cfg)
{
    ina->bus = bus;
    ina->cfg = *cfg;
    ina->config_reg = 0;
    ina->cal = 0;
    ina->current_lsb_na = 0;
    ina->conversion_us = 0;
    ina->converted = 0;
    ina->started = 0;
}

/* The configuration register to write and the calibration, or FW_SENSOR_CONFIG. */
static fw_sensor_err plan(fw_ina *ina)
{
    const fw_ina_config *c = &ina->cfg;
    if (c->shunt_uohm == 0 || c->max_ua == 0 || (c->chip != FW_INA219 && c->chip != FW_INA226))
        return FW_SENSOR_CONFIG;
    /* 0.04096 and 0.00512 in nA x micro-ohm units, and the largest CAL each register holds */
    uint64_t num = c->chip == FW_INA219 ? 40960000000000ull : 5120000000000ull;
    uint64_t cal_max = c->chip == FW_INA219 ? 0xFFFEu : 0x7FFFu;
    uint64_t lsb = ((uint64_t)c->max_ua * 1000u + 32767u) / 32768u; /* nA: max_ua fits 15 bits */
    uint64_t lsb_cal = (num + cal_max * c->shunt_uohm - 1) / (cal_max * c->shunt_uohm); /* CAL fits */
    if (lsb < lsb_cal)
        lsb = lsb_cal;
    uint64_t cal = num / (lsb * c->shunt_uohm);
    uint16_t reg = c->config;
    if (c->chip == FW_INA219) {
        cal &= 0xFFFEu; /* bit 0 is not implemented */
        if (!reg) {
            uint64_t full_uv = (uint64_t)c->max_ua * c->shunt_uohm / 1000000u;
            uint16_t pg = 0;
            while (pg < 3 && full_uv > (40000u << pg))
                pg++;
            if (full_uv > 320000u)
                return FW_SENSOR_CONFIG; /* beyond the widest shunt range */
            reg = (uint16_t)(pg << 11 | FW_INA219_DEFAULT_ADC | MODE_CONTINUOUS);
        }
    } else {
        if ((uint64_t)c->max_ua * c->shunt_uohm / 1000u > 81920000u)
            return FW_SENSOR_CONFIG; /* beyond the 81.92 mV shunt range */
        if (!reg)
            reg = FW_INA226_DEFAULT_CONFIG;
    }
    if (cal == 0 || lsb > 0xFFFFFFFFu || fw_ina_conversion_us(c->chip, reg) == 0)
        return FW_SENSOR_CONFIG;
    ina->config_reg = reg;
    ina->cal = (uint16_t)cal;
    ina->current_lsb_na = (uint32_t)lsb;
    ina->conversion_us = fw_ina_conversion_us(c->chip, reg);
    return FW_SENSOR_OK;
}

static fw_sensor_err probe(const fw_ina *ina)
{
    uint16_t v;
    fw_sensor_err e;
    if (ina->cfg.chip == FW_INA226) {
        if ((e = rd(ina, FW_INA226_MANUFACTURER, &v)) != FW_SENSOR_OK)
            return e;
        if (v != FW_INA226_MANUFACTURER_TI)
            return FW_SENSOR_WRONG_ID;
        if ((e = rd(ina, FW_INA226_DIE, &v)) != FW_SENSOR_OK)
            return e;
        if ((v & 0xFFF0u) != FW_INA226_DIE_ID)
            return FW_SENSOR_WRONG_ID;
    }
    /* The INA219 has no id register: after a reset its configuration reads its reset value. */
    if ((e = wr(ina, FW_INA_CONFIG, FW_INA_RESET)) != FW_SENSOR_OK || (e = rd(ina, FW_INA_CONFIG, &v)) != FW_SENSOR_OK)
        return e;
    return v == (ina->cfg.chip == FW_INA219 ? FW_INA219_CONFIG_RESET : FW_INA226_CONFIG_RESET) ? FW_SENSOR_OK
                                                                                              : FW_SENSOR_WRONG_ID;
}

fw_sensor_err fw_ina_start(fw_ina *ina)
{
    uint16_t cfg, cal;
    fw_sensor_err e;
    ina->started = 0;
    ina->converted = 0;
    if ((e = plan(ina)) != FW_SENSOR_OK || (e = probe(ina)) != FW_SENSOR_OK)
        return e;
    if ((e = wr(ina, FW_INA_CALIBRATION, ina->cal)) != FW_SENSOR_OK ||
        (e = wr(ina, FW_INA_CONFIG, ina->config_reg)) != FW_SENSOR_OK ||
        (e = rd(ina, FW_INA_CALIBRATION, &cal)) != FW_SENSOR_OK || (e = rd(ina, FW_INA_CONFIG, &cfg)) != FW_SENSOR_OK)
        return e;
    if (cal != ina->cal || cfg != ina->config_reg)
        return FW_SENSOR_BUS;
    ina->started = 1;
    return FW_SENSOR_OK;
}

/* The shunt ADC at either end of its range: the current is beyond what it can see. */
static int shunt_saturated(const fw_ina *ina, int16_t shunt)
{
    int32_t full = ina->cfg.chip == FW_INA219 ? 4000 << ((ina->config_reg >> 11) & 3u) : 32767;
    return shunt >= full || shunt <= -full;
}

fw_sensor_err fw_ina_read(fw_ina *ina, fw_ina_reading *r)
{
    uint16_t flags, bus, shunt, current, power;
    fw_sensor_err e;
    int is219 = ina->cfg.chip == FW_INA219;
    if (!ina->started)
        return FW_SENSOR_NOT_READY;
    /* Flags first: INA219's are in the bus register, INA226's in mask/enable. Reading
     * POWER (INA219) or mask/enable (INA226) clears the ready flag, so `converted`
     * remembers that a conversion has been seen. */
    if ((e = rd(ina, is219 ? FW_INA_BUS : FW_INA226_MASK, &flags)) != FW_SENSOR_OK)
        return e;
    if (flags & (is219 ? FW_INA219_CNVR : FW_INA226_CVRF))
        ina->converted = 1;
    if (!ina->converted)
        return FW_SENSOR_NOT_READY;
    if (flags & (is219 ? FW_INA219_OVF : FW_INA226_OVF))
        return FW_SENSOR_OVERFLOW;
    if ((!is219 && (e = rd(ina, FW_INA_BUS, &bus)) != FW_SENSOR_OK) ||
        (e = rd(ina, FW_INA_SHUNT, &shunt)) != FW_SENSOR_OK || (e = rd(ina, FW_INA_CURRENT, &current)) != FW_SENSOR_OK ||
        (e = rd(ina, FW_INA_POWER, &power)) != FW_SENSOR_OK)
        return e;
    if (is219)
        bus = flags;
    if (shunt_saturated(ina, (int16_t)shunt))
        return FW_SENSOR_OVERFLOW;
    uint32_t lsb = ina->current_lsb_na;
    r->shunt_nv = (int32_t)(int16_t)shunt * (is219 ? 10000 : 2500);
    r->bus_mv = is219 ? (uint32_t)(bus >> 3) * 4u : (uint32_t)(bus & 0x7FFFu) * 5u / 4u;
    r->current_ua = (int32_t)((int64_t)(int16_t)current * lsb / 1000);
    r->power_uw = (uint32_t)((uint64_t)power * (is219 ? 20u : 25u) * lsb / 1000u);
    return FW_SENSOR_OK;
}

static fw_sensor_err sensor_start(void *ctx, uint32_t *conversion_us)
{
    fw_ina *ina = ctx;
    fw_sensor_err e = fw_ina_start(ina);
    *conversion_us = ina->conversion_us;
    return e;
}

static fw_sensor_err sensor_read(void *ctx, uint16_t *voltage_mv, uint32_t *current_ua)
{
    fw_ina_reading r;
    fw_sensor_err e = fw_ina_read(ctx, &r);
    if (e != FW_SENSOR_OK)
        return e;
    *voltage_mv = (uint16_t)(r.bus_mv > 0xFFFFu ? 0xFFFFu : r.bus_mv);
    *current_ua = r.current_ua > 0 ? (uint32_t)r.current_ua : 0u;
    return FW_SENSOR_OK;
}

fw_power_sensor fw_ina_sensor(fw_ina *ina)
{
    fw_power_sensor s = {ina, sensor_start, sensor_read};
    return s;
}
