#include "sim_ina.h"

#include <string.h>

enum { R_CONFIG, R_SHUNT, R_BUS, R_POWER, R_CURRENT, R_CAL, R_MASK, R_LIMIT };

static int has_reg(const sim_ina *s, uint8_t reg)
{
    return s->chip == FW_INA219 ? reg <= R_CAL : reg <= R_LIMIT || reg >= FW_INA226_MANUFACTURER;
}

static uint64_t now(const sim_ina *s) { return s->clock->now_us(s->clock->ctx); }

static uint32_t current_ua(const sim_ina *s) { return s->busy ? s->supply->running_ua : s->supply->idle_ua; }

static void reset(sim_ina *s)
{
    memset(s->reg, 0, sizeof s->reg);
    s->reg[R_CONFIG] = s->chip == FW_INA219 ? FW_INA219_CONFIG_RESET : FW_INA226_CONFIG_RESET;
    s->cycle_start = s->last_us = now(s);
    s->charge = 0;
}

void sim_ina_init(sim_ina *s, fw_ina_chip chip, uint8_t addr, uint32_t shunt_uohm, const model_power *supply,
                  const fw_clock *clock)
{
    memset(s, 0, sizeof *s);
    s->chip = chip;
    s->addr = addr;
    s->shunt_uohm = shunt_uohm;
    s->supply = supply;
    s->clock = clock;
    reset(s);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* One conversion cycle done: the registers take the average current over it. */
static void convert(sim_ina *s, uint64_t avg_ua)
{
    int is219 = s->chip == FW_INA219;
    uint16_t *r = s->reg;
    int64_t shunt_nv = (int64_t)(avg_ua * s->shunt_uohm / 1000u) + s->offset_nv;
    int64_t lsb_nv = is219 ? 10000 : 2500;
    int64_t full = is219 ? 4000 << ((r[R_CONFIG] >> 11) & 3u) : 32767;
    int64_t shunt = clamp((shunt_nv + (shunt_nv >= 0 ? lsb_nv / 2 : -lsb_nv / 2)) / lsb_nv, -full, full);
    int64_t bus_mv = clamp((int64_t)s->supply->voltage_mv - shunt_nv / 1000000, 0, is219 ? 32764 : 40958);
    int64_t bus = is219 ? bus_mv / 4 : bus_mv * 4 / 5;
    int64_t current = shunt * r[R_CAL] / (is219 ? 4096 : 2048);
    int ovf = current > 32767 || current < -32768;
    current = clamp(current, -32768, 32767);
    int64_t power = (current < 0 ? -current : current) * bus / (is219 ? 5000 : 20000);
    ovf |= power > 0xFFFF;
    r[R_SHUNT] = (uint16_t)shunt;
    r[R_CURRENT] = (uint16_t)current;
    r[R_POWER] = (uint16_t)clamp(power, 0, 0xFFFF);
    if (is219) {
        r[R_BUS] = (uint16_t)(bus << 3 | FW_INA219_CNVR | (ovf ? FW_INA219_OVF : 0));
    } else {
        r[R_BUS] = (uint16_t)bus;
        r[R_MASK] = (uint16_t)((r[R_MASK] & ~FW_INA226_OVF) | FW_INA226_CVRF | (ovf ? FW_INA226_OVF : 0));
    }
}

/* Move the part's time to `t`: complete every conversion cycle that ended by then. The
 * current is constant between calls (the marker calls in on every edge). */
static void advance(sim_ina *s, uint64_t t)
{
    uint64_t period = fw_ina_conversion_us(s->chip, s->reg[R_CONFIG]);
    uint64_t ua = current_ua(s);
    if (period && t - s->cycle_start >= period) {
        uint64_t end = s->cycle_start + period;
        s->charge += ua * (end - s->last_us);
        convert(s, s->charge / period);
        uint64_t more = (t - end) / period; /* further whole cycles at a constant current */
        if (more)
            convert(s, ua);
        s->cycle_start = end + more * period;
        s->last_us = s->cycle_start;
        s->charge = 0;
    }
    s->charge += ua * (t - s->last_us);
    s->last_us = t;
}

static fw_i2c_status bus_write(void *ctx, uint8_t addr, const uint8_t *p, size_t n)
{
    sim_ina *s = ctx;
    if (s->nack || addr != s->addr)
        return FW_I2C_NACK_ADDR;
    if (n == 0)
        return FW_I2C_OK;
    uint8_t reg = p[0];
    if (!has_reg(s, reg) || (n != 1 && n != 3))
        return FW_I2C_NACK_DATA;
    uint64_t t = now(s);
    advance(s, t);
    s->ptr = reg;
    if (n == 1)
        return FW_I2C_OK;
    uint16_t v = (uint16_t)(p[1] << 8 | p[2]);
    if (reg == R_CONFIG) {
        if (v & FW_INA_RESET) {
            reset(s);
            return FW_I2C_OK;
        }
        s->reg[R_CONFIG] = s->chip == FW_INA219 ? v : (uint16_t)((v & 0x0FFFu) | 0x4000u);
        s->cycle_start = s->last_us = t; /* a configuration write restarts the conversions */
        s->charge = 0;
        if (s->chip == FW_INA219)
            s->reg[R_BUS] &= (uint16_t)~FW_INA219_CNVR;
        else
            s->reg[R_MASK] &= (uint16_t)~FW_INA226_CVRF;
    } else if (reg == R_CAL) {
        s->reg[R_CAL] = (uint16_t)(v & (s->chip == FW_INA219 ? 0xFFFEu : 0x7FFFu));
    } else if (reg == R_MASK) {
        s->reg[R_MASK] = (uint16_t)((s->reg[R_MASK] & 0x03FCu) | (v & 0xFC03u));
    } else if (reg == R_LIMIT) {
        s->reg[R_LIMIT] = v;
    } /* the measurement and id registers are read-only: the write is acknowledged and ignored */
    return FW_I2C_OK;
}

static fw_i2c_status bus_write_read(void *ctx, uint8_t addr, const uint8_t *w, size_t wn, uint8_t *r, size_t rn)
{
    sim_ina *s = ctx;
    fw_i2c_status st = bus_write(ctx, addr, w, wn);
    if (st != FW_I2C_OK)
        return st;
    advance(s, now(s));
    uint16_t v;
    if (s->ptr == FW_INA226_MANUFACTURER)
        v = FW_INA226_MANUFACTURER_TI;
    else if (s->ptr == FW_INA226_DIE)
        v = FW_INA226_DIE_ID;
    else
        v = s->reg[s->ptr];
    /* Reading POWER (INA219) or mask/enable (INA226) clears the ready flag. */
    if (s->chip == FW_INA219 && s->ptr == R_POWER)
        s->reg[R_BUS] &= (uint16_t)~FW_INA219_CNVR;
    if (s->chip == FW_INA226 && s->ptr == R_MASK)
        s->reg[R_MASK] &= (uint16_t)~FW_INA226_CVRF;
    for (size_t i = 0; i < rn; i++) /* the part sends MSB, LSB, then repeats the register */
        r[i] = (uint8_t)(i % 2 ? v : v >> 8);
    return FW_I2C_OK;
}

static void marker_set(void *ctx, int high)
{
    sim_ina *s = ctx;
    advance(s, now(s));
    s->busy = high != 0;
}

fw_i2c sim_ina_bus(sim_ina *s)
{
    fw_i2c bus = {s, bus_write, bus_write_read};
    return bus;
}

fw_marker sim_ina_marker(sim_ina *s)
{
    fw_marker m = {s, marker_set};
    return m;
}
