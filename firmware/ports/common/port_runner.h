/* The inference runner a host program links: TFLM when built with -DFW_RUNNER_TFLM
 * (runner/tflm, C++), else the C99 reference runner. One runner per program. */
#ifndef PORT_RUNNER_H
#define PORT_RUNNER_H
#include "fw_hal.h"

#ifdef FW_RUNNER_TFLM
#include "fw_tflm_runner.h"
#else
#include "fw_ref_runner.h"
#endif

/* (Re)make the runner over `arena` (16-byte aligned): a reboot drops the running model. */
static inline fw_runner port_runner_make(uint8_t *arena, uint32_t arena_bytes)
{
#ifdef FW_RUNNER_TFLM
    return fw_tflm_runner_make(arena, arena_bytes);
#else
    static fw_ref_runner ref;
    return fw_ref_runner_make(&ref, arena, arena_bytes);
#endif
}

#endif
