/* The board's input sequence: what input number `input_id` feeds the model, so the
 * host can recompute every input and check results bit for bit. Integer-only on
 * purpose: no float rounding can differ between the board and the host.
 *
 *   element i of input id k (int8) = ((k + 31*i) mod 256) - 128
 *
 * For hello_world (one int8 input, scale 0.02448, zero point -128) this sweeps x over
 * [0, 6.24] in 256 steps and repeats: the model draws its sine wave. */
#ifndef FW_INPUT_H
#define FW_INPUT_H
#include <stdint.h>

static inline int8_t fw_input_int8(uint32_t input_id, uint32_t element)
{
    return (int8_t)((int32_t)((input_id + 31u * element) & 0xFFu) - 128);
}

#endif
