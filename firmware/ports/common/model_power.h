/* A modelled power meter for ports without one (POSIX, QEMU): a fixed supply voltage,
 * an idle current, and a higher current while a model runs. Figures are the port's
 * configuration, not measurements. */
#ifndef MODEL_POWER_H
#define MODEL_POWER_H
#include "fw_hal.h"

typedef struct {
    uint16_t voltage_mv;
    uint32_t idle_ua;
    uint32_t running_ua;
} model_power;

fw_power_meter model_power_meter(model_power *m);

#endif
