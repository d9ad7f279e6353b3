/* An in-memory board for host tests: RAM slot store (with injectable write
 * failures), a clock the test moves, a UART that captures frames, a constant power
 * meter and a runner double whose behaviour the model's first byte selects:
 *   'O' unsupported op "FAKE_OP", 'A' arena too small (needs 999999), 'X' invalid,
 *   anything else loads (arena 100) and outputs int8 [id, id+1, id+2, id+3]. */
#ifndef TEST_HAL_H
#define TEST_HAL_H
#include "fw_device.h"

#define TB_SLOT_BYTES 8192u
#define TB_MAX_PAYLOAD 600u
#define TB_OUT_BYTES (1u << 16)

typedef struct {
    uint8_t slot[FW_SLOTS][TB_SLOT_BYTES];
    fw_persist saved;
    int has_saved;
    int fail_writes;
    const fw_slots *guard; /* a write outside [received, size) of the upload slot aborts */
} tb_store;

typedef struct {
    tb_store store;
    uint64_t now;
    uint8_t out[TB_OUT_BYTES];
    size_t out_len, out_read;
    int running;
    uint8_t result[4];
    fw_rx host_rx;
    uint8_t host_rx_buf[FW_RX_BUF_SIZE(4096)];
    fw_power_sensor sensor; /* tb_boot installs these: a test may give the board a sensor */
    fw_marker marker;
    fw_hal hal;
    fw_config cfg;
    fw_device dev;
    uint8_t rx[FW_RX_BUF_SIZE(TB_MAX_PAYLOAD)];
    uint8_t tx[FW_TX_BUF_SIZE(TB_MAX_PAYLOAD)];
} test_board;

/* Collects whatever an encoder emits; `byte_sink_put` is the fw_put_fn to pass it with. */
typedef struct {
    uint8_t buf[8192];
    size_t len;
} byte_sink;
void byte_sink_put(void *ctx, const uint8_t *p, size_t n);

/* A fresh board (empty store) or, with keep_store, a reset that keeps the slots. */
void tb_boot(test_board *b, int keep_store, uint8_t reason);
/* Host side: frame a request and feed it to the board. */
void tb_send(test_board *b, uint8_t type, uint16_t seq, const uint8_t *payload, size_t n);
/* Next frame the board sent, 0 when there is none. */
int tb_next(test_board *b, fw_frame *f);
/* Upload a small model to slot 0 (the runner double loads it), commit it and activate it
 * permanently, so it runs at the board's inference period. */
void tb_run_model(test_board *b);
/* Send a request and return its response frame (events before it are skipped). */
fw_frame tb_call(test_board *b, uint8_t type, const uint8_t *payload, size_t n);
/* Error code of an error response, 0 for a success response. */
int tb_error(const fw_frame *f);
/* MODEL_BEGIN of `model` into `slot` and its response; model NULL: a zero hash (for requests
 * refused before any hashing). */
fw_frame tb_begin(test_board *b, uint8_t slot, const uint8_t *model, uint32_t size, const char *name);
void tb_sha256(const uint8_t *p, uint32_t n, uint8_t out[FW_SHA256_SIZE]);
/* MODEL_CHUNK or MODEL_DATA (the same layout: offset + data) and its response. */
fw_frame tb_at(test_board *b, uint8_t type, uint32_t offset, const uint8_t *data, size_t n);

#endif
