/* The board's input sequence: what input number `input_id` feeds the model, so the
 * host can recompute every input and check results bit for bit. Integer-only on
 * purpose: no float rounding can differ between the board and the host.
 *
 *   element i of input id k (int8) = ((k + 31*i) mod 256) - 128
 *
 * For hello_world (one int8 input, scale 0.02448, zero point -128) this sweeps x over
 * [0, 6.24] in 256 steps and repeats: the model draws its sine wave.
 *
 * Inputs of other types take the same value v = fw_input_int8(k, i), widened exactly:
 *
 *   uint8  v + 128        int16  v * 256 (full-scale, e.g. audio samples)
 *   int32  v              float32  v / 128 (in [-1, 1), exact in binary floating point)
 *
 * The host's twin is input_vector() in tests/firmware/board_link.py. */
#ifndef FW_INPUT_H
#define FW_INPUT_H
#include <stdint.h>

static inline int8_t fw_input_int8(uint32_t input_id, uint32_t element)
{
    return (int8_t)((int32_t)((input_id + 31u * element) & 0xFFu) - 128);
}

static inline uint8_t fw_input_uint8(uint32_t input_id, uint32_t element)
{
    return (uint8_t)(fw_input_int8(input_id, element) + 128);
}

static inline int16_t fw_input_int16(uint32_t input_id, uint32_t element)
{
    return (int16_t)(fw_input_int8(input_id, element) * 256);
}

static inline int32_t fw_input_int32(uint32_t input_id, uint32_t element)
{
    return fw_input_int8(input_id, element);
}

static inline float fw_input_float32(uint32_t input_id, uint32_t element)
{
    return (float)fw_input_int8(input_id, element) / 128.0f;
}

#endif
