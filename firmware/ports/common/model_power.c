#include "model_power.h"

static void read_power(void *ctx, int model_running, uint16_t *voltage_mv, uint32_t *current_ua)
{
    const model_power *m = ctx;
    *voltage_mv = m->voltage_mv;
    *current_ua = model_running ? m->running_ua : m->idle_ua;
}

fw_power_meter model_power_meter(model_power *m)
{
    fw_power_meter meter = {m, read_power};
    return meter;
}
