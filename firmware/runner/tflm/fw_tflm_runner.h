/* The TensorFlow Lite Micro runner: the fw_runner interface over a tflite::MicroInterpreter
 * whose resolver registers every operator of the TFLM tree it is built from
 * (fw_tflm_ops.inc, generated from the tree). Shared by every port that links TFLM: the
 * POSIX port (reference kernels) and Cortex-M boards (CMSIS-NN kernels).
 *
 * Models are untrusted: the flatbuffer is verified before TFLM reads it, operators are
 * looked up before the interpreter is built, and TFLM's own error text (captured from
 * DebugLog, which this runner provides) is what `why` reports. */
#ifndef FW_TFLM_RUNNER_H
#define FW_TFLM_RUNNER_H

#ifdef __cplusplus
extern "C" {
#endif

#include "fw_hal.h"

/* The runner; there is one per program (it owns the interpreter and resolver). Calling it
 * again (a reboot) drops the running model. The arena is caller-owned and 16-byte
 * aligned; its size is the INFO arena_bytes. */
fw_runner fw_tflm_runner_make(uint8_t *arena, uint32_t arena_bytes);

#ifdef __cplusplus
}
#endif

#endif
