/* The portable int8 reference runner for the host and QEMU ports: reads the .tflite
 * flatbuffer in place and executes FULLY_CONNECTED models (fused NONE / RELU /
 * RELU_N1_TO_1 / RELU6, per-tensor or per-channel weights) with TFLM's integer
 * arithmetic, so outputs are bit-identical to the TFLM interpreter. Any other
 * operator is refused at test-load with its name (OP_UNSUPPORTED). */
#ifndef FW_REF_RUNNER_H
#define FW_REF_RUNNER_H
#include "fw_hal.h"

/* Reported in RUNTIME as "fleet-ref <version>"; bumped when its arithmetic changes. */
#define FW_REF_RUNNER_VERSION "2"

typedef struct {
    uint8_t *arena;
    uint32_t arena_bytes;
    const void *plan; /* the running model's plan, in the arena; NULL when stopped */
} fw_ref_runner;

/* The arena is caller-owned and 8-byte aligned (it holds pointers and int32 arrays);
 * its size is the INFO arena_bytes. */
fw_runner fw_ref_runner_make(fw_ref_runner *r, uint8_t *arena, uint32_t arena_bytes);

#endif
