#include "fw_slots.h"

#include <string.h>

#include "fw_sha256.h"

#define STATE(s, i) ((s)->p.slot[i].info.state)

static int save(fw_slots *s) { return s->store->save(s->store->ctx, &s->p); }

/* Start the model in `slot`, or stop running anything for FW_NO_SLOT. */
static fw_err run(fw_slots *s, uint8_t slot)
{
    s->runner->stop(s->runner->ctx);
    s->running = FW_NO_SLOT;
    if (slot == FW_NO_SLOT)
        return FW_OK;
    fw_err e = s->runner->start(s->runner->ctx, s->store->map(s->store->ctx, slot), s->p.slot[slot].info.size);
    if (e == FW_OK)
        s->running = slot;
    return e;
}

static uint8_t find(const fw_slots *s, uint8_t state)
{
    for (uint8_t i = 0; i < FW_SLOTS; i++)
        if (STATE(s, i) == state)
            return i;
    return FW_NO_SLOT;
}

void fw_slots_boot(fw_slots *s, const fw_store *store, const fw_runner *runner)
{
    s->store = store;
    s->runner = runner;
    s->running = FW_NO_SLOT;
    s->streaming = 0;
    if (store->load(store->ctx, &s->p) != 0)
        memset(&s->p, 0, sizeof s->p); /* a new store: both slots EMPTY */
    s->p.boot_count++;
    /* An unconfirmed model never survives a reset: that is the rollback guarantee. */
    uint8_t pending = find(s, FW_SLOT_PENDING);
    if (pending != FW_NO_SLOT)
        STATE(s, pending) = FW_SLOT_VALID;
    save(s); /* a failed save only loses the boot count increment */
    /* An interrupted upload keeps taking chunks after the reset, as it would have. */
    s->upload = find(s, FW_SLOT_RECEIVING);
    /* A model that fails to load leaves none running; the slot keeps its state. */
    run(s, find(s, FW_SLOT_ACTIVE));
}

fw_err fw_slots_begin(fw_slots *s, const fw_model_begin *m, uint32_t *value)
{
    *value = 0;
    s->streaming = 0; /* a stream never outlives its MODEL_BEGIN */
    if (m->slot >= FW_SLOTS || m->slot == s->running || STATE(s, m->slot) == FW_SLOT_ACTIVE)
        return FW_E_BAD_SLOT;
    if (m->size == 0 || m->size > s->store->slot_bytes) {
        *value = s->store->slot_bytes;
        return FW_E_TOO_LARGE;
    }
    fw_slot_info *info = &s->p.slot[m->slot].info;
    if ((info->state == FW_SLOT_RECEIVING || info->state == FW_SLOT_VALID) && info->size == m->size &&
        memcmp(info->sha256, m->sha256, FW_SHA256_SIZE) == 0) {
        s->upload = info->state == FW_SLOT_RECEIVING ? m->slot : FW_NO_SLOT;
        *value = info->received; /* resume: nothing is erased */
        return FW_OK;
    }
    /* Mark the slot EMPTY on the store before erasing, so a reset mid-erase never
     * leaves metadata that describes half-erased bytes. */
    memset(&s->p.slot[m->slot], 0, sizeof s->p.slot[m->slot]);
    if (save(s) != 0 || s->store->erase(s->store->ctx, m->slot) != 0)
        return FW_E_STORAGE;
    info->state = FW_SLOT_RECEIVING;
    info->size = m->size;
    memcpy(info->sha256, m->sha256, FW_SHA256_SIZE);
    info->name = m->name;
    info->version = m->version;
    if (save(s) != 0)
        return FW_E_STORAGE;
    s->upload = m->slot;
    return FW_OK;
}

fw_err fw_slots_chunk(fw_slots *s, uint32_t offset, const uint8_t *data, uint32_t n, uint32_t *value)
{
    *value = 0;
    /* A plain chunk moves `received` under an open stream's feet: it closes the stream. */
    s->streaming = 0;
    if (s->upload == FW_NO_SLOT || STATE(s, s->upload) != FW_SLOT_RECEIVING)
        return FW_E_NO_UPLOAD;
    fw_slot_info *info = &s->p.slot[s->upload].info;
    if ((uint64_t)offset + n > info->size) {
        *value = info->size;
        return FW_E_OUT_OF_RANGE;
    }
    /* Go-back-N: only the chunk that continues the contiguous prefix is stored; a
     * retransmission or a chunk after a gap is answered with the same cumulative ACK. */
    if (offset == info->received) {
        if (s->store->write(s->store->ctx, s->upload, offset, data, n) != 0)
            return FW_E_STORAGE;
        info->received += n;
        if (save(s) != 0)
            return FW_E_STORAGE;
    }
    *value = info->received;
    return FW_OK;
}

fw_err fw_slots_stream(fw_slots *s, const fw_model_stream *m, uint32_t *value)
{
    *value = 0;
    s->streaming = 0; /* closed whatever the outcome */
    if (m->encoding != FW_ENCODING_BLOCKS || (m->base_slot >= FW_SLOTS && m->base_slot != FW_NO_SLOT))
        return FW_E_BAD_PAYLOAD;
    if (s->upload == FW_NO_SLOT || STATE(s, s->upload) != FW_SLOT_RECEIVING)
        return FW_E_NO_UPLOAD;
    uint32_t base_size = 0;
    if (m->base_slot != FW_NO_SLOT) {
        const fw_slot_info *base = &s->p.slot[m->base_slot].info;
        if (m->base_slot == s->upload || base->state < FW_SLOT_VALID ||
            memcmp(base->sha256, m->base_sha256, FW_SHA256_SIZE) != 0) {
            *value = m->base_slot;
            return FW_E_BASE_MISMATCH;
        }
        base_size = base->size;
    }
    const fw_slot_info *info = &s->p.slot[s->upload].info;
    fw_inflate_open(&s->stream, s->store, s->upload, info->received, info->size, m->base_slot, base_size);
    s->streaming = 1;
    *value = info->received;
    return FW_OK;
}

fw_err fw_slots_data(fw_slots *s, uint32_t offset, const uint8_t *data, uint32_t n, fw_data_ack *ack,
                     char why[FW_WHY_SIZE])
{
    ack->next_offset = ack->received = 0;
    if (!s->streaming || s->upload == FW_NO_SLOT || STATE(s, s->upload) != FW_SLOT_RECEIVING)
        return FW_E_NO_UPLOAD;
    fw_slot_info *info = &s->p.slot[s->upload].info;
    /* Go-back-N as for chunks: only the bytes that continue the stream are decoded. */
    fw_err e = offset == s->stream.stream_pos ? fw_inflate_feed(&s->stream, data, n) : FW_OK;
    if (s->stream.received != info->received) { /* blocks completed, even before a failure */
        info->received = s->stream.received;
        if (save(s) != 0)
            e = FW_E_STORAGE;
    }
    if (e == FW_E_DECODE_FAILED)
        strcpy(why, s->stream.why); /* the decoder's reasons fit FW_WHY_SIZE */
    if (e != FW_OK)
        s->streaming = 0;
    ack->next_offset = s->stream.stream_pos;
    ack->received = info->received;
    return e;
}

fw_err fw_slots_commit(fw_slots *s, uint8_t slot, uint32_t *value, char why[FW_WHY_SIZE])
{
    *value = 0;
    if (slot >= FW_SLOTS)
        return FW_E_BAD_SLOT;
    fw_slot_meta *meta = &s->p.slot[slot];
    if (meta->info.state >= FW_SLOT_VALID) {
        *value = meta->arena_used; /* verified before: success again */
        return FW_OK;
    }
    if (meta->info.state == FW_SLOT_EMPTY)
        return FW_E_NO_UPLOAD;
    if (meta->info.received < meta->info.size) {
        *value = meta->info.received;
        return FW_E_INCOMPLETE;
    }
    const uint8_t *model = s->store->map(s->store->ctx, slot);
    fw_sha256 h;
    uint8_t digest[FW_SHA256_SIZE];
    fw_sha256_init(&h);
    fw_sha256_update(&h, model, meta->info.size);
    fw_sha256_final(&h, digest);
    if (memcmp(digest, meta->info.sha256, FW_SHA256_SIZE) != 0) {
        memset(meta, 0, sizeof *meta);
        if (s->upload == slot)
            s->upload = FW_NO_SLOT;
        return save(s) != 0 ? FW_E_STORAGE : FW_E_HASH_MISMATCH;
    }
    fw_err e = s->runner->check(s->runner->ctx, model, meta->info.size, value, why);
    if (e != FW_OK)
        return e;
    meta->arena_used = *value;
    meta->info.state = FW_SLOT_VALID;
    if (s->upload == slot)
        s->upload = FW_NO_SLOT;
    return save(s) != 0 ? FW_E_STORAGE : FW_OK;
}

fw_err fw_slots_activate(fw_slots *s, uint8_t slot, uint8_t mode)
{
    if (slot >= FW_SLOTS)
        return FW_E_BAD_SLOT;
    if (mode > FW_ACTIVATE_PERMANENT)
        return FW_E_BAD_PAYLOAD;
    if (slot == s->running)
        return FW_OK;
    if (STATE(s, slot) != FW_SLOT_VALID)
        return FW_E_NOT_VERIFIED;
    uint8_t previous = s->running;
    fw_err e = run(s, slot);
    if (e != FW_OK) {
        run(s, previous); /* the old model keeps running */
        return e;
    }
    /* Only one slot may be PENDING: a model under test that is replaced reverts. */
    uint8_t pending = find(s, FW_SLOT_PENDING);
    if (pending != FW_NO_SLOT)
        STATE(s, pending) = FW_SLOT_VALID;
    if (mode == FW_ACTIVATE_PERMANENT) {
        uint8_t active = find(s, FW_SLOT_ACTIVE);
        if (active != FW_NO_SLOT)
            STATE(s, active) = FW_SLOT_VALID;
        STATE(s, slot) = FW_SLOT_ACTIVE;
    } else {
        STATE(s, slot) = FW_SLOT_PENDING;
    }
    return save(s) != 0 ? FW_E_STORAGE : FW_OK;
}

fw_err fw_slots_confirm(fw_slots *s, uint8_t slot)
{
    if (slot >= FW_SLOTS)
        return FW_E_BAD_SLOT;
    if (STATE(s, slot) == FW_SLOT_ACTIVE)
        return FW_OK;
    if (STATE(s, slot) != FW_SLOT_PENDING)
        return FW_E_NOT_PENDING;
    uint8_t active = find(s, FW_SLOT_ACTIVE);
    if (active != FW_NO_SLOT)
        STATE(s, active) = FW_SLOT_VALID;
    STATE(s, slot) = FW_SLOT_ACTIVE;
    return save(s) != 0 ? FW_E_STORAGE : FW_OK;
}

fw_err fw_slots_rollback(fw_slots *s)
{
    uint8_t pending = find(s, FW_SLOT_PENDING);
    if (pending == FW_NO_SLOT)
        return FW_OK;
    STATE(s, pending) = FW_SLOT_VALID;
    if (save(s) != 0)
        return FW_E_STORAGE;
    /* The ACTIVE model ran before the test; if it cannot start, nothing runs. */
    run(s, find(s, FW_SLOT_ACTIVE));
    return FW_OK;
}

void fw_slots_status(const fw_slots *s, fw_slot_status *out)
{
    out->active_slot = s->running;
    for (uint8_t i = 0; i < FW_SLOTS; i++)
        out->slots[i] = s->p.slot[i].info;
}
