/* The board runner for ports without TFLM: the int8 reference runner (FULLY_CONNECTED). */
#include "board.h"
#include "fw_ref_runner.h"

static fw_ref_runner g_runner;

fw_runner board_runner(uint8_t *arena, uint32_t arena_bytes) { return fw_ref_runner_make(&g_runner, arena, arena_bytes); }
