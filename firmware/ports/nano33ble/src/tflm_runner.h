/* The TensorFlow Lite Micro runner for real boards: the fw_runner interface over a
 * tflite::MicroInterpreter, with the operators the board profile lists. */
#ifndef TFLM_RUNNER_H
#define TFLM_RUNNER_H

extern "C" {
#include "fw_hal.h"
}

fw_runner tflm_runner_make(uint8_t *arena, uint32_t arena_bytes);

#endif
