/* The stream scheduler: runs the model at the board's inference period (driving the
 * inference marker around each invoke) and decides when INFER_RESULT, POWER and LOG
 * events go out, as STREAM_CONFIG asked. It also integrates energy since boot, whether or
 * not the POWER stream is on, from the board's current sensor (read once per conversion)
 * when it has one, else from the modelled meter. */
#ifndef FW_STREAMS_H
#define FW_STREAMS_H
#include "fw_hal.h"

#define FW_MAX_TOP_K 32u

typedef struct {
    fw_stream_config cfg;
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

struct fw_device;

void fw_streams_init(fw_streams *st, uint64_t now_us);
/* Probe and configure the board's sensor, if it has one (start not NULL). One that does
 * not answer, or answers wrong, leaves POWER modelled: fw_streams_measured says which. */
void fw_streams_start_sensor(fw_streams *st, const fw_power_sensor *sensor);
static inline int fw_streams_measured(const fw_streams *st) { return st->sensor_us != 0; }
/* Clamp a requested configuration to what this board does, apply it, and return it in
 * place (the STREAM_CONFIG response carries the applied values). */
void fw_streams_configure(fw_streams *st, fw_stream_config *cfg, uint32_t capabilities, uint16_t min_power_ms);
/* Do whatever is due; returns microseconds until something else will be. */
uint32_t fw_streams_poll(struct fw_device *dev);

/* Builds TOPK entries (u16 index, element) of the k largest elements, largest first,
 * ties to the lower index. Returns the bytes written to dst (room for k entries). */
uint32_t fw_topk(const fw_output *out, uint8_t k, uint8_t *dst);

#endif
