/* The INA219/INA226 driver against the register-level model (ports/common/sim_ina.c) on a
 * clock the test moves: datasheet conversion times, calibration, readings, the busy-time
 * weighting the inference marker gives, and the edge cases (a reverse current, the
 * overflow flag, a saturated shunt ADC, NACKs, the wrong chip, a configuration the part
 * cannot represent); then the stream scheduler with and without a sensor. */
#include <string.h>

#include "check.h"
#include "fw_ina2xx.h"
#include "fw_host_codec.h"
#include "sim_ina.h"
#include "test_hal.h"

static uint64_t g_now;
static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return g_now;
}
static const fw_clock k_clock = {NULL, fake_now};

typedef struct {
    model_power supply;
    sim_ina part;
    fw_i2c bus;
    fw_ina ina;
} rig;

/* A part at 0x40 behind a 1 ohm shunt, 3.3 V, 2 mA idle, 6 mA running; a driver for
 * `chip` at `addr`, full scale 30 mA, configuration `config` (0: the default). */
static void rig_make(rig *r, fw_ina_chip part, fw_ina_chip chip, uint8_t addr, uint16_t config)
{
    g_now = 1000;
    r->supply = (model_power){3300, 2000, 6000};
    sim_ina_init(&r->part, part, 0x40, 1000000, &r->supply, &k_clock);
    r->bus = sim_ina_bus(&r->part);
    fw_ina_config c = {chip, addr, 1000000, 30000, config};
    fw_ina_init(&r->ina, &r->bus, &c);
}

static void test_conversion_times(void)
{
    CHECK_EQ(fw_ina_conversion_us(FW_INA219, FW_INA219_CONFIG_RESET), 532 + 532);
    CHECK_EQ(fw_ina_conversion_us(FW_INA219, FW_INA219_DEFAULT_ADC | 7), 532 + 8510);
    CHECK_EQ(fw_ina_conversion_us(FW_INA219, 0x07FF), 68100 + 68100); /* 128 samples each */
    CHECK_EQ(fw_ina_conversion_us(FW_INA219, 0x0007), 84 + 84);      /* 9-bit */
    CHECK_EQ(fw_ina_conversion_us(FW_INA226, FW_INA226_CONFIG_RESET), 1100 + 1100);
    CHECK_EQ(fw_ina_conversion_us(FW_INA226, FW_INA226_DEFAULT_CONFIG), (332 + 332) * 16);
    CHECK_EQ(fw_ina_conversion_us(FW_INA226, 0x4FFF), (8244 + 8244) * 1024);
    CHECK_EQ(fw_ina_conversion_us(FW_INA226, 0x4123), 0); /* triggered mode: no cycle */
}

static void test_start_and_calibration(void)
{
    rig r;
    /* INA219: LSB = ceil(30 mA / 32768) = 916 nA; CAL = 0.04096 / (916 nA x 1 ohm) = 44716;
     * 30 mV at full scale: gain /1 (40 mV). */
    rig_make(&r, FW_INA219, FW_INA219, 0x40, 0);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    CHECK_EQ(r.ina.current_lsb_na, 916);
    CHECK_EQ(r.ina.cal, 44716);
    CHECK_EQ(r.part.reg[5], 44716);
    CHECK_EQ(r.part.reg[0], 0x01E7);
    CHECK_EQ(r.ina.conversion_us, 9042);
    /* INA226: the same LSB, CAL = 0.00512 / (916 nA x 1 ohm) = 5589. */
    rig_make(&r, FW_INA226, FW_INA226, 0x40, 0);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    CHECK_EQ(r.ina.cal, 5589);
    CHECK_EQ(r.part.reg[0], FW_INA226_DEFAULT_CONFIG);
    CHECK_EQ(r.ina.conversion_us, 10624);
    /* 200 mA through 0.1 ohm is 20 mV: INA219 gain /1 still; 350 mA (35 mV) too; 500 mA: /2. */
    rig_make(&r, FW_INA219, FW_INA219, 0x40, 0);
    r.part.shunt_uohm = 100000;
    fw_ina_config c = {FW_INA219, 0x40, 100000, 500000, 0};
    fw_ina_init(&r.ina, &r.bus, &c);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    CHECK_EQ((r.ina.config_reg >> 11) & 3, 1);
    /* CAL must fit its register: a tiny full scale on a big shunt takes a coarser LSB. */
    fw_ina_config tiny = {FW_INA226, 0x40, 10000000, 100, 0};
    fw_ina_init(&r.ina, &r.bus, &tiny);
    rig_make(&r, FW_INA226, FW_INA226, 0x40, 0);
    fw_ina_init(&r.ina, &r.bus, &tiny);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    CHECK(r.ina.cal <= 0x7FFF && r.ina.cal > 0x7000);
}

static void test_readings(void)
{
    rig r;
    fw_ina_reading rd;
    for (int chip = 0; chip < 2; chip++) {
        fw_ina_chip c = chip ? FW_INA226 : FW_INA219;
        rig_make(&r, c, c, 0x40, 0);
        CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_NOT_READY); /* the first conversion is not done */
        g_now += r.ina.conversion_us - 1;
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_NOT_READY);
        g_now += 1;
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
        /* 2 mA through 1 ohm: 2 mV; current register 2183 x 916 nA = 1999.6 uA. */
        CHECK_EQ(rd.shunt_nv, 2000000);
        CHECK_EQ(rd.current_ua, 1999);
        CHECK_EQ(rd.bus_mv, chip ? 3297 : 3296); /* 3298 mV in 1.25 mV / 4 mV steps */
        CHECK(rd.power_uw > 6500 && rd.power_uw < 6650);
        /* The ready flag was cleared by this read; the registers still hold it. */
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
        CHECK_EQ(rd.current_ua, 1999);
        /* Busy for a quarter of a cycle: the next reading is the average, 3 mA. */
        g_now += r.ina.conversion_us - (g_now - r.part.cycle_start); /* to the cycle's start */
        fw_marker m = sim_ina_marker(&r.part);
        m.set(m.ctx, 1);
        g_now += r.ina.conversion_us / 4;
        m.set(m.ctx, 0);
        g_now += r.ina.conversion_us - r.ina.conversion_us / 4;
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
        CHECK(rd.current_ua >= 2990 && rd.current_ua <= 3010);
        /* Ten idle cycles later the reading is idle again. */
        g_now += 10 * r.ina.conversion_us;
        CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
        CHECK_EQ(rd.current_ua, 1999);
    }
}

static void test_reverse_current(void)
{
    rig r;
    fw_ina_reading rd;
    rig_make(&r, FW_INA219, FW_INA219, 0x40, 0);
    r.supply.idle_ua = 0;
    r.part.offset_nv = -50000; /* -50 uV at the shunt input */
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    g_now += r.ina.conversion_us;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
    CHECK_EQ(rd.shunt_nv, -50000);   /* sign-extended, not 65531 LSBs */
    CHECK_EQ(rd.current_ua, -49);    /* -5 x 44716 / 4096 = -54 LSBs of 916 nA */
    fw_power_sensor s = fw_ina_sensor(&r.ina);
    uint16_t mv;
    uint32_t ua = 12345;
    CHECK_EQ(s.read(s.ctx, &mv, &ua), FW_SENSOR_OK);
    CHECK_EQ(ua, 0); /* the wire's current has no sign */
    CHECK_EQ(mv, 3300);
}

static void test_overflow_and_saturation(void)
{
    rig r;
    fw_ina_reading rd;
    /* Gain /8 (320 mV) but CAL for 30 mA: 200 mA makes the current math overflow. */
    rig_make(&r, FW_INA219, FW_INA219, 0x40, 0x1800 | FW_INA219_DEFAULT_ADC | 7);
    r.supply.idle_ua = 200000;
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    g_now += r.ina.conversion_us;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OVERFLOW);
    CHECK(r.part.reg[2] & FW_INA219_OVF);
    r.supply.idle_ua = 2000; /* back in range: the flag clears with the next conversion */
    g_now += 2 * r.ina.conversion_us;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
    /* INA226: the same through its mask/enable register. */
    rig_make(&r, FW_INA226, FW_INA226, 0x40, 0);
    fw_ina_config c = {FW_INA226, 0x40, 1000000, 5000, 0}; /* CAL for 5 mA full scale; 20 mA flow */
    fw_ina_init(&r.ina, &r.bus, &c);
    r.supply.idle_ua = 20000;
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    g_now += r.ina.conversion_us;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OVERFLOW);
    /* Gain /1 (40 mV) while 60 mV crosses the shunt: the ADC saturates at 4000 LSBs and
     * the math does not overflow; the driver still refuses the figure. */
    rig_make(&r, FW_INA219, FW_INA219, 0x40, FW_INA219_DEFAULT_ADC | 7);
    fw_ina_config big = {FW_INA219, 0x40, 1000000, 100000, FW_INA219_DEFAULT_ADC | 7};
    fw_ina_init(&r.ina, &r.bus, &big);
    r.supply.idle_ua = 60000;
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    g_now += r.ina.conversion_us;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OVERFLOW);
    CHECK_EQ(r.part.reg[1], 4000);
    CHECK(!(r.part.reg[2] & FW_INA219_OVF));
}

static void test_bus_errors(void)
{
    rig r;
    fw_ina_reading rd;
    rig_make(&r, FW_INA219, FW_INA219, 0x41, 0); /* nothing at 0x41 */
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_NACK);
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_NOT_READY); /* never started */
    rig_make(&r, FW_INA226, FW_INA226, 0x40, 0);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_OK);
    g_now += r.ina.conversion_us;
    r.part.nack = 1; /* the part drops off the bus */
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_NACK);
    r.part.nack = 0;
    CHECK_EQ(fw_ina_read(&r.ina, &rd), FW_SENSOR_OK);
    /* The wrong part: an INA219 driver finds an INA226 (its reset configuration differs);
     * an INA226 driver on an INA219 finds no id register. */
    rig_make(&r, FW_INA226, FW_INA219, 0x40, 0);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_WRONG_ID);
    rig_make(&r, FW_INA219, FW_INA226, 0x40, 0);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_NACK);
    /* What no part can represent. */
    fw_ina_config zero = {FW_INA219, 0x40, 0, 30000, 0};
    fw_ina_init(&r.ina, &r.bus, &zero);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_CONFIG);
    fw_ina_config wide = {FW_INA219, 0x40, 20000000, 30000, 0}; /* 600 mV across the shunt */
    fw_ina_init(&r.ina, &r.bus, &wide);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_CONFIG);
    fw_ina_config trig = {FW_INA226, 0x40, 1000000, 30000, 0x4123};
    fw_ina_init(&r.ina, &r.bus, &trig);
    CHECK_EQ(fw_ina_start(&r.ina), FW_SENSOR_CONFIG);
}

/* --- the stream scheduler with a sensor --------------------------------------------- */

static test_board B;
static rig R;
static unsigned g_marks[2];

static uint64_t board_now(void *ctx)
{
    (void)ctx;
    return B.now;
}
static const fw_clock k_board_clock = {NULL, board_now};

static void marker(void *ctx, int high)
{
    fw_marker *m = ctx;
    g_marks[high != 0]++;
    m->set(m->ctx, high);
}

/* A board whose sensor is an INA226 model at `part_addr` on the board's clock, its
 * driver looking at 0x40. */
static fw_marker g_part_marker;
static void boot_with_sensor(uint8_t part_addr)
{
    B.now = 1000;
    R.supply = (model_power){3300, 2000, 6000};
    sim_ina_init(&R.part, FW_INA226, part_addr, 1000000, &R.supply, &k_board_clock);
    R.bus = sim_ina_bus(&R.part);
    fw_ina_config c = {FW_INA226, 0x40, 1000000, 30000, 0};
    fw_ina_init(&R.ina, &R.bus, &c);
    B.sensor = fw_ina_sensor(&R.ina);
    g_part_marker = sim_ina_marker(&R.part);
    B.marker = (fw_marker){&g_part_marker, marker};
    tb_boot(&B, 0, FW_BOOT_POWER_ON);
}

static uint32_t capabilities(void)
{
    const uint8_t hello[3] = {1, 0x00, 0x10};
    fw_frame f = tb_call(&B, FW_T_HELLO, hello, 3);
    fw_info info;
    CHECK(fw_dec_info(f.payload, f.length, &info) == FW_OK);
    return info.capabilities;
}

static uint16_t configure_power(uint16_t ms)
{
    uint8_t p[7] = {FW_STREAM_POWER | FW_STREAM_LOG, FW_LOG_INFO, 0, 0, (uint8_t)ms, (uint8_t)(ms >> 8), 0};
    fw_frame f = tb_call(&B, FW_T_STREAM_CONFIG, p, 7);
    fw_stream_config applied;
    CHECK(fw_dec_stream_config(f.payload, f.length, &applied) == FW_OK);
    return applied.power_interval_ms;
}

/* Run `ms` of board time in 1 ms polls; collect POWER samples and the last LOG text. */
static unsigned run_for(unsigned ms, fw_power *last, char *log, size_t log_cap)
{
    unsigned powers = 0;
    fw_frame f;
    for (unsigned i = 0; i < ms; i++) {
        fw_device_poll(&B.dev);
        B.now += 1000;
    }
    while (tb_next(&B, &f)) {
        if (f.type == FW_T_POWER && last && fw_dec_power(f.payload, f.length, last) == FW_OK)
            powers++;
        fw_log lv;
        if (f.type == FW_T_LOG && log && fw_dec_log(f.payload, f.length, &lv) == FW_OK) {
            size_t n = lv.text.len < log_cap - 1 ? lv.text.len : log_cap - 1;
            memcpy(log, lv.text.data, n);
            log[n] = 0;
        }
    }
    return powers;
}

static void test_streams_with_a_sensor(void)
{
    fw_power p;
    char log[64] = "";
    boot_with_sensor(0x40);
    CHECK(capabilities() & FW_CAP_POWER_SENSOR);
    CHECK_EQ(configure_power(1), 11); /* no faster than the sensor's 10.6 ms conversions */
    CHECK(run_for(200, &p, log, sizeof log) >= 15);
    CHECK_EQ(p.current_ua, 1999); /* the sensor's figure (the model says 2000) */
    CHECK_EQ(p.voltage_mv, 3297);
    /* A model running: the marker goes high and low around every invoke, and the sensor
     * sees the 7 us invokes (every 10 ms) as a sliver of running current. */
    tb_run_model(&B);
    configure_power(50);
    g_marks[0] = g_marks[1] = 0;
    CHECK(run_for(500, &p, NULL, 0) >= 9);
    CHECK(g_marks[1] >= 45 && g_marks[0] == g_marks[1]);
    CHECK(p.current_ua >= 1999 && p.current_ua < 2010);
    /* The part drops off the bus: POWER stops (no figure under the sensor's name), an
     * ERROR says why, once; energy holds the last reading. */
    uint64_t energy = p.energy_uj;
    R.part.nack = 1;
    CHECK(run_for(300, &p, log, sizeof log) <= 1); /* a reading taken before it failed may still go out */
    CHECK(strcmp(log, "power sensor: no answer (NACK)") == 0);
    R.part.nack = 0;
    log[0] = 0;
    CHECK(run_for(200, &p, log, sizeof log) >= 3);
    CHECK(strcmp(log, "power sensor: reading again") == 0);
    /* 1999 uA x 3297 mV = 6.59 mW held through the 300 ms gap too: ~3.3 mJ over 500 ms. */
    CHECK(p.energy_uj - energy > 3000 && p.energy_uj - energy < 3600);
}

static void test_streams_without_the_sensor(void)
{
    fw_power p;
    boot_with_sensor(0x45); /* the driver looks at 0x40: nothing answers */
    CHECK(!(capabilities() & FW_CAP_POWER_SENSOR));
    CHECK_EQ(configure_power(1), 10); /* the board's own minimum */
    CHECK(run_for(100, &p, NULL, 0) >= 8);
    CHECK_EQ(p.current_ua, 2000); /* the modelled meter's figure */
    CHECK_EQ(p.voltage_mv, 3300);
    memset(&B.sensor, 0, sizeof B.sensor);
    memset(&B.marker, 0, sizeof B.marker);
}

int main(void)
{
    test_conversion_times();
    test_start_and_calibration();
    test_readings();
    test_reverse_current();
    test_overflow_and_saturation();
    test_bus_errors();
    test_streams_with_a_sensor();
    test_streams_without_the_sensor();
    return check_done("ina2xx");
}
