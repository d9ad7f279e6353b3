#include "fw_quant.h"

#include <math.h>

#include "fw_tflite.h"

void fw_quantize_multiplier(double m, int32_t *significand, int32_t *shift)
{
    if (m == 0.0) {
        *significand = 0;
        *shift = 0;
        return;
    }
    int e;
    double q = frexp(m, &e);
    int64_t fixed = (int64_t)round(q * (double)(1LL << 31));
    if (fixed == (1LL << 31)) { /* q rounded up to 1.0 */
        fixed /= 2;
        e++;
    }
    if (e < -31) { /* too small to represent: TFLM flushes to zero */
        e = 0;
        fixed = 0;
    }
    *significand = (int32_t)fixed;
    *shift = e;
}

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static int32_t srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / (1LL << 31)); /* C division truncates, as gemmlowp's does */
}

/* gemmlowp RoundingDivideByPOT: round half away from zero. */
static int32_t rdbpot(int32_t x, int32_t exponent)
{
    int32_t mask = (int32_t)((1LL << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t fw_mul_by_quantized_multiplier(int32_t x, int32_t significand, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    /* TFLM multiplies in int32 and relies on the wrap; do it in unsigned to stay defined. */
    int32_t scaled = (int32_t)((uint32_t)x * (1u << left));
    return rdbpot(srdhm(scaled, significand), right);
}

static int32_t quantize(float f, float scale, int32_t zero_point)
{
    return zero_point + (int32_t)roundf(f / scale);
}

void fw_activation_range_int8(int act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi)
{
    int32_t qmin = -128, qmax = 127, v;
    *lo = qmin;
    *hi = qmax;
    if (act == FW_ACT_RELU || act == FW_ACT_RELU6) {
        v = quantize(0.0f, scale, zero_point);
        *lo = v > qmin ? v : qmin;
    }
    if (act == FW_ACT_RELU6) {
        v = quantize(6.0f, scale, zero_point);
        *hi = v < qmax ? v : qmax;
    }
    if (act == FW_ACT_RELU_N1_TO_1) {
        v = quantize(-1.0f, scale, zero_point);
        *lo = v > qmin ? v : qmin;
        v = quantize(1.0f, scale, zero_point);
        *hi = v < qmax ? v : qmax;
    }
}
