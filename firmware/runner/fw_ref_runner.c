#include "fw_ref_runner.h"

#include <math.h>
#include <string.h>

#include "fw_input.h"
#include "fw_quant.h"
#include "fw_tflite.h"

#define ALIGN(n) (((n) + 15u) & ~15u)
#define MAX_IO 4u /* model inputs fed from the input sequence */

/* One FULLY_CONNECTED, resolved to pointers and TFLM's precomputed parameters. */
typedef struct {
    const int8_t *in;
    const int8_t *w;
    const uint8_t *bias; /* little-endian int32 per unit, NULL when absent */
    int8_t *out;
    int32_t batches, depth, units;
    int32_t in_offset, w_offset, out_offset, act_min, act_max;
    int32_t mult, shift;             /* per-tensor */
    int32_t *ch_mult, *ch_shift;     /* per-channel, NULL for per-tensor weights */
} fc_op;

typedef struct {
    uint32_t n_ops, n_inputs;
    fc_op *ops;
    int8_t *inputs[MAX_IO];
    uint32_t input_bytes[MAX_IO];
    fw_output out;
} plan_t;

/* Planning state: with arena == NULL it only measures (test-load of a new model must
 * not disturb the running one); with an arena it lays the model out in it. */
typedef struct {
    fw_tflite m;
    uint8_t *arena;
    uint32_t used;
    uint32_t *tensor_at; /* arena offset + 1 of each run-time tensor, 0 for constants */
    char *why;
} planner;

static void *take(planner *p, uint32_t bytes)
{
    void *at = p->arena ? p->arena + p->used : NULL;
    p->used += ALIGN(bytes);
    return at;
}

static void say(char *why, const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > FW_WHY_SIZE - 1)
        n = FW_WHY_SIZE - 1;
    if (m > FW_WHY_SIZE - 1 - n)
        m = FW_WHY_SIZE - 1 - n;
    memcpy(why, a, n);
    memcpy(why + n, b, m);
    why[n + m] = 0;
}

static int8_t *tensor_ptr(planner *p, int32_t index)
{
    return p->arena ? (int8_t *)(p->arena + p->tensor_at[index] - 1) : NULL;
}

/* A usable scale: finite, positive, and large enough that TFLM's float-to-int
 * conversion of an activation bound (6 / scale) stays inside int32, where it is
 * defined behaviour. NaN fails the comparison too. */
static int scale_ok(float s) { return s >= 3e-9f && s <= 1e9f; }

static fw_err quant_param(planner *p, const fw_tensor *t, float *scale, int32_t *zp)
{
    if (t->scales.n == 0 || t->zero_points.n == 0)
        return FW_E_MODEL_INVALID;
    *scale = fw_fb_f32_at(&p->m.fb, t->scales, 0);
    int64_t z = fw_fb_i64_at(&p->m.fb, t->zero_points, 0);
    if (!scale_ok(*scale) || z < -32768 || z > 32767) {
        say(p->why, "quantization parameters out of range", "");
        return FW_E_MODEL_INVALID;
    }
    *zp = (int32_t)z;
    return FW_OK;
}

static fw_err multiplier(double real, int32_t *mult, int32_t *shift)
{
    fw_quantize_multiplier(real, mult, shift);
    return *shift > 30 ? FW_E_MODEL_INVALID : FW_OK; /* TFLM's own limit on the shift */
}

static fw_err plan_fc(planner *p, const fw_operator *o, fc_op *op)
{
    fw_fb *fb = &p->m.fb;
    fw_tensor in, w, b, out;
    if (o->inputs.n < 2 || o->inputs.n > 3 || o->outputs.n != 1)
        return FW_E_MODEL_INVALID;
    int32_t ii = fw_fb_i32_at(fb, o->inputs, 0), wi = fw_fb_i32_at(fb, o->inputs, 1);
    int32_t bi = o->inputs.n == 3 ? fw_fb_i32_at(fb, o->inputs, 2) : -1;
    int32_t oi = fw_fb_i32_at(fb, o->outputs, 0);
    if (fw_tflite_tensor(&p->m, (uint32_t)ii, &in) || fw_tflite_tensor(&p->m, (uint32_t)wi, &w) ||
        fw_tflite_tensor(&p->m, (uint32_t)oi, &out) || (bi >= 0 && fw_tflite_tensor(&p->m, (uint32_t)bi, &b)))
        return FW_E_MODEL_INVALID;
    if (in.type != FW_TT_INT8 || w.type != FW_TT_INT8 || out.type != FW_TT_INT8 || (bi >= 0 && b.type != FW_TT_INT32)) {
        say(p->why, "FULLY_CONNECTED", " (only int8 with int32 bias)");
        return FW_E_OP_UNSUPPORTED;
    }
    /* FullyConnectedOptions: 0 fused_activation_function, 1 weights_format. */
    int32_t act = fw_fb_field_int(fb, o->options, 0, 1, FW_ACT_NONE);
    if (act > FW_ACT_RELU6 || fw_fb_field_int(fb, o->options, 1, 1, 0) != 0) {
        say(p->why, "FULLY_CONNECTED", " (fused activation or weights format)");
        return FW_E_OP_UNSUPPORTED;
    }
    if (!w.data || w.ndims != 2 || in.data || out.data || (bi >= 0 && !b.data))
        return FW_E_MODEL_INVALID;
    int32_t units = w.dims[0], depth = w.dims[1];
    if (units == 0 || depth == 0 || in.elements % (uint32_t)depth || out.elements != in.elements / (uint32_t)depth * (uint32_t)units ||
        (bi >= 0 && b.elements != (uint32_t)units))
        return FW_E_MODEL_INVALID;
    float in_s, w_s, out_s;
    int32_t in_zp, w_zp, out_zp;
    if (quant_param(p, &in, &in_s, &in_zp) || quant_param(p, &w, &w_s, &w_zp) || quant_param(p, &out, &out_s, &out_zp))
        return FW_E_MODEL_INVALID;
    uint32_t channels = w.scales.n;
    if (channels != 1 && channels != (uint32_t)units)
        return FW_E_MODEL_INVALID;
    int32_t *ch = channels > 1 ? take(p, 8u * channels) : NULL;
    fc_op o_;
    fc_op *q = op ? op : &o_;
    q->ch_mult = ch;
    q->ch_shift = ch ? ch + channels : NULL;
    /* TFLM refuses a bias whose scale is not input_scale * filter_scale (within 2% of
     * an output step), because the kernel folds the bias in at the product scale. */
    double product = (double)in_s * (double)w_s; /* in double, as TFLM's check */
    if (bi >= 0) {
        float b_s = b.scales.n ? fw_fb_f32_at(fb, b.scales, 0) : 0.0f;
        if (!(fabs(product - (double)b_s) / (double)out_s <= 0.02)) {
            say(p->why, "bias scale is not input x filter scale", "");
            return FW_E_MODEL_INVALID;
        }
    }
    /* The effective scale input * filter / output, all in double, per-tensor as
     * per-channel: what the TFLM interpreter fleet checks against computes. (A float
     * product input * filter, as older TFLM FULLY_CONNECTED kernels formed the
     * per-tensor scale, moves the multiplier's low bits and outputs by 1 LSB.) */
    for (uint32_t c = 0; c < channels; c++) {
        float ch_s = fw_fb_f32_at(fb, w.scales, c);
        if (!scale_ok(ch_s))
            return FW_E_MODEL_INVALID;
        double real = (double)in_s * (double)ch_s / (double)out_s;
        int32_t m, s;
        if (multiplier(real, &m, &s))
            return FW_E_MODEL_INVALID;
        if (channels == 1) {
            q->mult = m;
            q->shift = s;
        } else if (ch) {
            q->ch_mult[c] = m;
            q->ch_shift[c] = s;
        }
    }
    if (!op)
        return fb->bad ? FW_E_MODEL_INVALID : FW_OK;
    op->in = tensor_ptr(p, ii);
    op->w = (const int8_t *)w.data;
    op->bias = bi >= 0 ? b.data : NULL;
    op->out = tensor_ptr(p, oi);
    op->depth = depth;
    op->units = units;
    op->batches = (int32_t)(in.elements / (uint32_t)depth);
    op->in_offset = -in_zp;
    op->w_offset = -w_zp;
    op->out_offset = out_zp;
    fw_activation_range_int8(act, out_s, out_zp, &op->act_min, &op->act_max);
    return fb->bad ? FW_E_MODEL_INVALID : FW_OK;
}

/* Lay out (or measure) the model: tensor table, op list, per-channel parameters,
 * then every run-time tensor, each in its own aligned block. */
static fw_err plan(planner *p, const uint8_t *model, uint32_t size, plan_t *out)
{
    fw_tflite *m = &p->m;
    if (fw_tflite_open(m, model, size))
        return FW_E_MODEL_INVALID;
    p->tensor_at = take(p, 4u * m->tensors.n);
    fc_op *ops = take(p, (uint32_t)sizeof(fc_op) * m->operators.n);
    /* Operators first: an unsupported op is the most useful thing to report. */
    for (uint32_t i = 0; i < m->operators.n; i++) {
        fw_operator o;
        if (fw_tflite_operator(m, i, &o))
            return FW_E_MODEL_INVALID;
        if (o.code != FW_OP_FULLY_CONNECTED) {
            say(p->why, fw_tflite_op_name(o.code), "");
            return FW_E_OP_UNSUPPORTED;
        }
    }
    for (uint32_t i = 0; i < m->tensors.n; i++) {
        fw_tensor t;
        if (fw_tflite_tensor(m, i, &t))
            return FW_E_MODEL_INVALID;
        uint32_t at = p->used;
        if (!t.data)
            take(p, t.bytes);
        if (p->tensor_at)
            p->tensor_at[i] = t.data ? 0 : at + 1;
    }
    for (uint32_t i = 0; i < m->operators.n; i++) {
        fw_operator o;
        fw_tflite_operator(m, i, &o);
        fw_err e = plan_fc(p, &o, ops ? ops + i : NULL);
        if (e)
            return e;
    }
    if (m->inputs.n == 0 || m->inputs.n > MAX_IO || m->outputs.n == 0)
        return FW_E_MODEL_INVALID;
    for (uint32_t i = 0; i < m->inputs.n; i++) {
        fw_tensor t;
        int32_t idx = fw_fb_i32_at(&m->fb, m->inputs, i);
        if (fw_tflite_tensor(m, (uint32_t)idx, &t) || t.data || t.type != FW_TT_INT8)
            return FW_E_MODEL_INVALID;
        if (out) {
            out->inputs[i] = tensor_ptr(p, idx);
            out->input_bytes[i] = t.elements;
        }
    }
    fw_tensor t;
    int32_t oidx = fw_fb_i32_at(&m->fb, m->outputs, 0);
    if (fw_tflite_tensor(m, (uint32_t)oidx, &t) || t.data)
        return FW_E_MODEL_INVALID;
    if (out) {
        float s;
        int32_t zp;
        out->n_ops = m->operators.n;
        out->n_inputs = m->inputs.n;
        out->ops = ops;
        out->out.dtype = t.type;
        out->out.data = (const uint8_t *)tensor_ptr(p, oidx);
        out->out.bytes = t.elements; /* int8 */
        if (quant_param(p, &t, &s, &zp))
            return FW_E_MODEL_INVALID;
        out->out.scale = s;
        out->out.zero_point = zp;
    }
    return m->fb.bad ? FW_E_MODEL_INVALID : FW_OK;
}

static fw_err check(void *ctx, const uint8_t *model, uint32_t size, uint32_t *arena, char why[FW_WHY_SIZE])
{
    fw_ref_runner *r = ctx;
    planner p;
    memset(&p, 0, sizeof p);
    p.why = why;
    p.used = ALIGN((uint32_t)sizeof(plan_t));
    fw_err e = plan(&p, model, size, NULL);
    *arena = p.used;
    if (e == FW_OK && p.used > r->arena_bytes)
        return FW_E_ARENA_TOO_SMALL;
    if (e != FW_OK)
        *arena = 0;
    return e;
}

static void stop(void *ctx) { ((fw_ref_runner *)ctx)->plan = NULL; }

static fw_err start(void *ctx, const uint8_t *model, uint32_t size)
{
    fw_ref_runner *r = ctx;
    char why[FW_WHY_SIZE];
    uint32_t need;
    r->plan = NULL;
    fw_err e = check(ctx, model, size, &need, why);
    if (e != FW_OK)
        return e;
    planner p;
    memset(&p, 0, sizeof p);
    p.why = why;
    p.arena = r->arena;
    plan_t *pl = take(&p, (uint32_t)sizeof(plan_t));
    memset(r->arena, 0, need); /* run-time tensors start from zeros, every start */
    e = plan(&p, model, size, pl);
    if (e == FW_OK)
        r->plan = pl;
    return e;
}

/* int32 addition that wraps like the two's-complement hardware TFLM runs on: a model can
 * make the accumulator overflow, and signed overflow in C is undefined behaviour. */
static int32_t wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static void run_fc(const fc_op *op)
{
    for (int32_t b = 0; b < op->batches; b++) {
        const int8_t *x = op->in + b * op->depth;
        for (int32_t u = 0; u < op->units; u++) {
            const int8_t *w = op->w + u * op->depth;
            int32_t acc = 0;
            /* Per-channel kernels assume symmetric weights (no filter offset), as TFLM's. */
            int32_t w_off = op->ch_mult ? 0 : op->w_offset;
            for (int32_t k = 0; k < op->depth; k++)
                acc = wrap_add(acc, (w[k] + w_off) * (x[k] + op->in_offset));
            if (op->bias)
                acc = wrap_add(acc, (int32_t)fw_rd32(op->bias + 4 * u));
            acc = op->ch_mult ? fw_mul_by_quantized_multiplier(acc, op->ch_mult[u], op->ch_shift[u])
                              : fw_mul_by_quantized_multiplier(acc, op->mult, op->shift);
            acc = wrap_add(acc, op->out_offset);
            acc = acc < op->act_min ? op->act_min : acc > op->act_max ? op->act_max : acc;
            op->out[b * op->units + u] = (int8_t)acc;
        }
    }
}

static fw_err invoke(void *ctx, uint32_t input_id, fw_output *out)
{
    const plan_t *pl = ((fw_ref_runner *)ctx)->plan;
    if (!pl)
        return FW_E_INFERENCE_FAILED;
    for (uint32_t i = 0; i < pl->n_inputs; i++)
        for (uint32_t e = 0; e < pl->input_bytes[i]; e++)
            pl->inputs[i][e] = fw_input_int8(input_id, e);
    for (uint32_t i = 0; i < pl->n_ops; i++)
        run_fc(&pl->ops[i]);
    *out = pl->out;
    return FW_OK;
}

static const uint16_t k_builtins[] = {FW_OP_FULLY_CONNECTED};
static const fw_op_list k_ops = {"fleet-ref " FW_REF_RUNNER_VERSION, k_builtins, 1, NULL, 0};

fw_runner fw_ref_runner_make(fw_ref_runner *r, uint8_t *arena, uint32_t arena_bytes)
{
    fw_runner it = {r, arena_bytes, check, start, stop, invoke, &k_ops};
    r->arena = arena;
    r->arena_bytes = arena_bytes;
    r->plan = NULL;
    return it;
}
