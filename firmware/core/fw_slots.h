/* The A/B model slots (PROTOCOL.md section 5): upload with resume, sha256 verify,
 * test-load, test -> confirm -> rollback, and the boot rule that reverts an
 * unconfirmed slot. Every state change is saved through the slot store before it is
 * acknowledged, so a reset at any point leaves a consistent pair of slots. */
#ifndef FW_SLOTS_H
#define FW_SLOTS_H
#include "fw_hal.h"
#include "fw_inflate.h"

typedef struct {
    fw_persist p;
    uint8_t running; /* slot whose model runs now, FW_NO_SLOT for none */
    uint8_t upload;  /* slot that MODEL_CHUNKs go to, FW_NO_SLOT for none */
    const fw_store *store;
    const fw_runner *runner;
    uint8_t streaming; /* an encoded stream (MODEL_STREAM) is open on `upload` */
    fw_inflate stream;
} fw_slots;

/* Each operation returns FW_OK or an error code. `*value` receives the success value
 * (begin: offset, chunk: next offset, commit: arena used) or the error's detail;
 * `why` receives a specific error text or stays empty. */
void fw_slots_boot(fw_slots *s, const fw_store *store, const fw_runner *runner);
fw_err fw_slots_begin(fw_slots *s, const fw_model_begin *m, uint32_t *value);
fw_err fw_slots_chunk(fw_slots *s, uint32_t offset, const uint8_t *data, uint32_t n, uint32_t *value);
/* MODEL_STREAM: *value the stream's start (the upload's received), or the error's detail. */
fw_err fw_slots_stream(fw_slots *s, const fw_model_stream *m, uint32_t *value);
/* MODEL_DATA: decode stream bytes into the upload slot (go-back-N in stream offsets). On an
 * error ack->received is its detail; a DECODE_FAILED puts the reason in `why`. */
fw_err fw_slots_data(fw_slots *s, uint32_t offset, const uint8_t *data, uint32_t n, fw_data_ack *ack,
                     char why[FW_WHY_SIZE]);
fw_err fw_slots_commit(fw_slots *s, uint8_t slot, uint32_t *value, char why[FW_WHY_SIZE]);
fw_err fw_slots_activate(fw_slots *s, uint8_t slot, uint8_t mode);
fw_err fw_slots_confirm(fw_slots *s, uint8_t slot);
fw_err fw_slots_rollback(fw_slots *s);
void fw_slots_status(const fw_slots *s, fw_slot_status *out);

#endif
