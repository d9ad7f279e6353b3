/* TFLite Micro's integer arithmetic (tensorflow/lite/kernels/internal/common.h and
 * quantization_util.cc), reproduced operation for operation so results are
 * bit-identical to the TFLM interpreter. */
#ifndef FW_QUANT_H
#define FW_QUANT_H
#include <stdint.h>

/* QuantizeMultiplier: a real multiplier as a Q31 significand and a power-of-two shift. */
void fw_quantize_multiplier(double m, int32_t *significand, int32_t *shift);
/* MultiplyByQuantizedMultiplier (the double-rounding reference form TFLM builds by default). */
int32_t fw_mul_by_quantized_multiplier(int32_t x, int32_t significand, int32_t shift);
/* CalculateActivationRangeQuantized for an int8 output. */
void fw_activation_range_int8(int act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);

#endif
