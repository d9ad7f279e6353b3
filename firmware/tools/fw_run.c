/* Run a .tflite model on the host as a board would, with the reference runner (fw_run)
 * or TFLM (fw_run-tflm; see port_runner.h):
 *
 *     fw_run MODEL FIRST_INPUT_ID COUNT
 *     fw_run --ops
 *
 * prints "arena N" and then one line per input id: the id and the output tensor in
 * hex; or "error CODE TEXT" when the runner refuses the model. The Python tests use
 * it to compare the runner with the TFLM interpreter on many models quickly. --ops
 * prints what the runner reports it runs (fw_op_list, the RUNTIME response's data):
 * "runtime TEXT", then "builtin CODE" and "custom NAME" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_runner.h"

static union {
    uint8_t bytes[1u << 20];
    uint64_t align;
} g_arena;

static int print_ops(const fw_op_list *ops)
{
    printf("runtime %s\n", ops->runtime);
    for (uint16_t i = 0; i < ops->n_builtins; i++)
        printf("builtin %u\n", (unsigned)ops->builtins[i]);
    for (uint8_t i = 0; i < ops->n_customs; i++)
        printf("custom %s\n", ops->customs[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--ops") == 0)
        return print_ops(port_runner_make(g_arena.bytes, sizeof g_arena.bytes).ops);
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL FIRST_INPUT_ID COUNT\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static uint8_t model[1u << 22];
    size_t size = fread(model, 1, sizeof model, f);
    fclose(f);
    fw_runner r = port_runner_make(g_arena.bytes, sizeof g_arena.bytes);
    char why[FW_WHY_SIZE] = "";
    uint32_t arena;
    fw_err e = r.check(r.ctx, model, (uint32_t)size, &arena, why);
    if (e == FW_OK)
        e = r.start(r.ctx, model, (uint32_t)size);
    if (e != FW_OK) {
        printf("error %d %s\n", (int)e, why);
        return 1;
    }
    printf("arena %u\n", (unsigned)arena);
    unsigned long first = strtoul(argv[2], NULL, 0), count = strtoul(argv[3], NULL, 0);
    for (unsigned long id = first; id < first + count; id++) {
        fw_output out;
        if (r.invoke(r.ctx, (uint32_t)id, &out) != FW_OK)
            return 1;
        printf("%lu ", id);
        for (uint32_t i = 0; i < out.bytes; i++)
            printf("%02x", out.data[i]);
        printf("\n");
    }
    return 0;
}
