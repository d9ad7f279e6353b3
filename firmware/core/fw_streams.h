/* The stream scheduler: runs the model at the board's inference period (driving the
 * inference marker around each invoke) and decides when INFER_RESULT, POWER and LOG
 * events go out, as STREAM_CONFIG asked. It also integrates energy since boot, whether or
 * not the POWER stream is on, from the board's current sensor (read once per conversion)
 * when it has one, else from the modelled meter. It knows nothing
 * of the device that owns it: events leave through an event sink (fw_device provides one),
 * so the dependency points one way, fw_device -> fw_streams. */
#ifndef FW_STREAMS_H
#define FW_STREAMS_H
#include "fw_hal.h"

#define FW_MAX_TOP_K 32u

/* Where events go: `payload` opens the transmit payload (sized for the host), `send`
 * frames what was written there as an event of `type` and sends it (or drops it, when it
 * did not fit: the cursor is bad). */
typedef struct {
    void *ctx;
    fw_cur (*payload)(void *ctx);
    void (*send)(void *ctx, uint8_t type, const fw_cur *payload);
} fw_event_sink;

typedef struct {
    fw_stream_config cfg;
    const fw_hal *hal; /* clock, runner, power meter, sensor, marker */
    fw_event_sink sink;
    uint32_t infer_period_us;
    uint64_t next_infer_us;
    uint64_t last_result_us;
    uint64_t next_power_us;
    uint64_t last_energy_us;
    uint64_t energy_uj;
    uint32_t energy_nj;     /* remainder below 1 uJ */
    uint32_t energy_us;     /* time below 1 ms not yet integrated */
    uint32_t inferences;    /* since boot */
    uint8_t result_sent;    /* a result went out since the stream was configured */
    /* The board's current sensor (fw_hal.h), when it answered at boot. */
    uint32_t sensor_us;     /* its conversion time; 0: no sensor, POWER is modelled */
    uint64_t next_sensor_us;
    uint16_t sensor_mv;     /* its latest reading, held until the next conversion (and while it fails) */
    uint32_t sensor_ua;
    uint8_t sensor_have;    /* a reading has been taken */
    uint8_t sensor_err;     /* fw_sensor_err of the latest read */
} fw_streams;

void fw_streams_init(fw_streams *st, const fw_hal *hal, uint32_t infer_period_us, fw_event_sink sink);
/* Probe and configure the board's sensor (hal->sensor), if it has one (start not NULL). One
 * that does not answer, or answers wrong, leaves POWER modelled: fw_streams_measured says which. */
void fw_streams_start_sensor(fw_streams *st);
static inline int fw_streams_measured(const fw_streams *st) { return st->sensor_us != 0; }
/* Clamp a requested configuration to what this board does, apply it, and return it in
 * place (the STREAM_CONFIG response carries the applied values). */
void fw_streams_configure(fw_streams *st, fw_stream_config *cfg, uint32_t capabilities, uint16_t min_power_ms);
/* Do whatever is due; returns microseconds until something else will be. `model` is the
 * running model's sha256 (INFER_RESULT carries its prefix), NULL when no model runs. */
uint32_t fw_streams_poll(fw_streams *st, const uint8_t *model);
/* A LOG event, if the LOG stream is on and `level` passes its filter. */
void fw_streams_log(fw_streams *st, uint8_t level, const char *text);

/* Builds TOPK entries (u16 index, element) of the k largest elements, largest first,
 * ties to the lower index. Returns the bytes written to dst (room for k entries). */
uint32_t fw_topk(const fw_output *out, uint8_t k, uint8_t *dst);

#endif
