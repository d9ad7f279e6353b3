#include "fw_tflm_runner.h"

#include <new>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tensorflow/lite/micro/debug_log.h"
#include "tensorflow/lite/micro/memory_helpers.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"

extern "C" {
#include "fw_input.h"
}

#ifndef FW_TFLM_COMMIT
#error "define FW_TFLM_COMMIT: the short hash of the TFLM commit the tree was made from"
#endif
#ifdef CMSIS_NN
#define FW_TFLM_KERNELS "cmsis-nn"
#else
#define FW_TFLM_KERNELS "reference"
#endif

namespace {

/* The operator list, expanded three times: to count, to register, to report. */
#define FW_TFLM_BUILTIN(method, op) +1
#define FW_TFLM_CUSTOM(method, name) +1
constexpr unsigned kOps = 0
#include "fw_tflm_ops.inc"
    ;
#undef FW_TFLM_BUILTIN
#undef FW_TFLM_CUSTOM

#define FW_TFLM_BUILTIN(method, op) static_cast<uint16_t>(tflite::BuiltinOperator_##op),
#define FW_TFLM_CUSTOM(method, name)
const uint16_t kBuiltins[] = {
#include "fw_tflm_ops.inc"
};
#undef FW_TFLM_BUILTIN
#undef FW_TFLM_CUSTOM

#define FW_TFLM_BUILTIN(method, op)
#define FW_TFLM_CUSTOM(method, name) name,
const char *const kCustoms[] = {
#include "fw_tflm_ops.inc"
};
#undef FW_TFLM_BUILTIN
#undef FW_TFLM_CUSTOM

static_assert(sizeof kCustoms / sizeof kCustoms[0] < 256, "n_customs is a uint8_t");

const fw_op_list kOpList = {
    "tflm " FW_TFLM_COMMIT " " FW_TFLM_KERNELS, kBuiltins, static_cast<uint16_t>(sizeof kBuiltins / sizeof kBuiltins[0]),
    kCustoms, static_cast<uint8_t>(sizeof kCustoms / sizeof kCustoms[0]),
};

using Resolver = tflite::MicroMutableOpResolver<kOps>;

/* Plain storage, constructed in fw_tflm_runner_make: a bare-metal port's startup code
 * need not run C++ static constructors (.init_array) for the runner to work. */
struct Runner {
    uint8_t *arena;
    uint32_t arena_bytes;
    alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
    Resolver *resolver;  /* in resolver_storage once made */
    bool resolver_ready; /* every Add returned kTfLiteOk */
    alignas(tflite::MicroInterpreter) uint8_t storage[sizeof(tflite::MicroInterpreter)];
    tflite::MicroInterpreter *interp; /* in storage, or null */
    const uint8_t *model;             /* the running model, to restart it after a check */
    uint32_t size;
};

Runner g_runner;

/* TFLM's log: the first line since `log_reset` is kept as the reason a load failed. */
struct Log {
    char first[128]; /* long enough for TFLM's "..., missing: N" */
    char line[128];
    size_t len;
    bool have_first;
} g_log;

void log_reset()
{
    g_log.first[0] = 0;
    g_log.have_first = false;
    g_log.len = 0;
}

bool register_ops(Resolver &r)
{
    bool ok = true;
#define FW_TFLM_BUILTIN(method, op) ok = r.method() == kTfLiteOk && ok;
#define FW_TFLM_CUSTOM(method, name) ok = r.method() == kTfLiteOk && ok;
#include "fw_tflm_ops.inc"
#undef FW_TFLM_BUILTIN
#undef FW_TFLM_CUSTOM
    return ok && r.GetRegistrationLength() == kOps;
}

void drop(Runner *r)
{
    if (r->interp)
        r->interp->~MicroInterpreter();
    r->interp = nullptr;
}

/* TfLiteType -> the schema's TensorType, which INFER_RESULT carries; -1 for none. */
int tensor_type(TfLiteType t)
{
    switch (t) {
    case kTfLiteFloat32: return tflite::TensorType_FLOAT32;
    case kTfLiteFloat16: return tflite::TensorType_FLOAT16;
    case kTfLiteInt32: return tflite::TensorType_INT32;
    case kTfLiteUInt8: return tflite::TensorType_UINT8;
    case kTfLiteInt64: return tflite::TensorType_INT64;
    case kTfLiteBool: return tflite::TensorType_BOOL;
    case kTfLiteInt16: return tflite::TensorType_INT16;
    case kTfLiteInt8: return tflite::TensorType_INT8;
    case kTfLiteFloat64: return tflite::TensorType_FLOAT64;
    case kTfLiteUInt32: return tflite::TensorType_UINT32;
    case kTfLiteUInt16: return tflite::TensorType_UINT16;
    default: return -1;
    }
}

/* Input types the board's input sequence (fw_input.h) has values for. */
bool fed(TfLiteType t)
{
    return t == kTfLiteInt8 || t == kTfLiteUInt8 || t == kTfLiteInt16 || t == kTfLiteInt32 || t == kTfLiteFloat32;
}

void say(char *why, const char *a, const char *b = "")
{
    snprintf(why, FW_WHY_SIZE, "%s%s", a, b);
}

/* Every operator the model uses is registered; otherwise `why` names the first missing one. */
fw_err check_ops(const Runner *r, const tflite::Model *m, char *why)
{
    for (const tflite::OperatorCode *code : *m->operator_codes()) {
        tflite::BuiltinOperator op = tflite::GetBuiltinCode(code);
        if (op != tflite::BuiltinOperator_CUSTOM) {
            if (r->resolver->FindOp(op))
                continue;
            const char *name = tflite::EnumNameBuiltinOperator(op);
            if (*name)
                say(why, name);
            else
                snprintf(why, FW_WHY_SIZE, "BUILTIN_%d", static_cast<int>(op));
            return FW_E_OP_UNSUPPORTED;
        }
        if (!code->custom_code()) {
            say(why, "CUSTOM operator without a name");
            return FW_E_MODEL_INVALID;
        }
        if (!r->resolver->FindOp(code->custom_code()->c_str())) {
            say(why, code->custom_code()->c_str());
            return FW_E_OP_UNSUPPORTED;
        }
    }
    return FW_OK;
}

/* Index in [lo, n): TFLM indexes tensors, buffers and operator codes without checking,
 * and the flatbuffer verifier checks structure, not references. */
bool indices_ok(const flatbuffers::Vector<int32_t> *v, int32_t lo, uint32_t n)
{
    if (!v)
        return lo < 0; /* optional lists (intermediates) may be absent */
    for (int32_t i : *v)
        if (i < lo || (i >= 0 && static_cast<uint32_t>(i) >= n))
            return false;
    return true;
}

/* Bytes per element of a schema TensorType, 0 where not fixed (strings, int4, ...). */
uint32_t element_bytes(tflite::TensorType t)
{
    switch (t) {
    case tflite::TensorType_UINT8:
    case tflite::TensorType_INT8:
    case tflite::TensorType_BOOL: return 1;
    case tflite::TensorType_INT16:
    case tflite::TensorType_UINT16:
    case tflite::TensorType_FLOAT16: return 2;
    case tflite::TensorType_INT32:
    case tflite::TensorType_UINT32:
    case tflite::TensorType_FLOAT32: return 4;
    case tflite::TensorType_INT64:
    case tflite::TensorType_FLOAT64: return 8;
    default: return 0;
    }
}

/* A constant tensor's data covers its shape: kernels read shape-many elements. */
bool constant_ok(const tflite::Tensor *t, const tflite::Buffer *b)
{
    uint32_t size = element_bytes(t->type());
    if (!b || !b->data() || b->data()->size() == 0 || !size)
        return true;
    uint64_t need = size;
    if (t->shape())
        for (int32_t d : *t->shape()) {
            need *= static_cast<uint64_t>(d < 0 ? 0 : d);
            if (need > 0xFFFFFFFFu)
                return false;
        }
    return b->data()->size() >= need;
}

/* Every reference inside the model points at something that exists. */
bool references_ok(const tflite::Model *m)
{
    uint32_t n_codes = m->operator_codes()->size();
    uint32_t n_buffers = m->buffers() ? m->buffers()->size() : 0;
    for (const tflite::SubGraph *g : *m->subgraphs()) {
        if (!g->tensors() || !g->inputs() || !g->outputs() || !g->operators())
            return false;
        uint32_t n = g->tensors()->size();
        if (!indices_ok(g->inputs(), 0, n) || !indices_ok(g->outputs(), 0, n))
            return false;
        for (const tflite::Tensor *t : *g->tensors()) {
            if (t->buffer() >= n_buffers && !(t->buffer() == 0 && n_buffers == 0))
                return false;
            if (n_buffers && !constant_ok(t, m->buffers()->Get(t->buffer())))
                return false;
            if (t->shape())
                for (int32_t d : *t->shape())
                    if (d < -1)
                        return false;
        }
        for (const tflite::Operator *op : *g->operators())
            if (op->opcode_index() >= n_codes || !indices_ok(op->inputs(), -1, n) ||
                !indices_ok(op->outputs(), 0, n) || (op->intermediates() && !indices_ok(op->intermediates(), -1, n)))
                return false;
    }
    return true;
}

/* TFLM says how much an allocation missed ("..., missing: N"); the arena needs at least
 * that much more. 0 when the log does not say. */
uint32_t missing_bytes(const char *line)
{
    const char *at = strstr(line, "missing: ");
    unsigned long n = 0;
    if (at && sscanf(at + 9, "%lu", &n) == 1 && n < 0x7FFFFFFFul)
        return static_cast<uint32_t>(n);
    return 0;
}

/* Load `model` into the arena: verified flatbuffer, registered operators, fed input
 * types, reportable output type, tensor allocation. */
fw_err load(Runner *r, const uint8_t *model, uint32_t size, uint32_t *arena, char *why)
{
    drop(r);
    *arena = 0;
    why[0] = 0;
    if (!r->resolver_ready) {
        say(why, "TFLM operator registration failed");
        return FW_E_INTERNAL;
    }
    flatbuffers::Verifier verifier(model, size);
    if (!tflite::VerifyModelBuffer(verifier)) {
        say(why, "not a valid TFLite flatbuffer");
        return FW_E_MODEL_INVALID;
    }
    const tflite::Model *m = tflite::GetModel(model);
    if (m->version() != TFLITE_SCHEMA_VERSION || !m->subgraphs() || m->subgraphs()->size() == 0 ||
        !m->operator_codes()) {
        say(why, "no subgraph or operator table");
        return FW_E_MODEL_INVALID;
    }
    if (!references_ok(m)) {
        say(why, "index out of range or constant too short");
        return FW_E_MODEL_INVALID;
    }
    fw_err e = check_ops(r, m, why);
    if (e != FW_OK)
        return e;
    log_reset();
    r->interp = new (r->storage) tflite::MicroInterpreter(m, *r->resolver, r->arena, r->arena_bytes);
    if (r->interp->AllocateTensors() != kTfLiteOk) {
        drop(r);
        uint32_t missing = missing_bytes(g_log.first);
        if (missing) {
            *arena = r->arena_bytes + missing; /* a lower bound: later allocations may need more */
            say(why, "arena too small");
            return FW_E_ARENA_TOO_SMALL;
        }
        say(why, g_log.have_first ? g_log.first : "TFLM could not allocate the model");
        return FW_E_MODEL_INVALID;
    }
    if (r->interp->inputs_size() == 0 || r->interp->outputs_size() == 0) {
        drop(r);
        say(why, "no input or output tensor");
        return FW_E_MODEL_INVALID;
    }
    for (size_t i = 0; i < r->interp->inputs_size(); i++) {
        TfLiteType t = r->interp->input(i)->type;
        if (!fed(t)) {
            drop(r);
            say(why, "no input sequence for type ", TfLiteTypeGetName(t));
            return FW_E_MODEL_INVALID;
        }
    }
    TfLiteType t = r->interp->output(0)->type;
    if (tensor_type(t) < 0) {
        drop(r);
        say(why, "output type not reportable: ", TfLiteTypeGetName(t));
        return FW_E_MODEL_INVALID;
    }
    *arena = static_cast<uint32_t>(r->interp->arena_used_bytes());
    return FW_OK;
}

fw_err start(void *ctx, const uint8_t *model, uint32_t size)
{
    Runner *r = static_cast<Runner *>(ctx);
    char why[FW_WHY_SIZE];
    uint32_t arena;
    fw_err e = load(r, model, size, &arena, why);
    r->model = e == FW_OK ? model : nullptr;
    r->size = size;
    return e;
}

/* TFLM cannot hold two models in one arena: test-load the new model, then restart the
 * running one. A restart starts the model afresh: a stateful model (variable tensors,
 * e.g. the Signal library's noise estimates) loses its state, as on a reboot. */
fw_err check(void *ctx, const uint8_t *model, uint32_t size, uint32_t *arena, char why[FW_WHY_SIZE])
{
    Runner *r = static_cast<Runner *>(ctx);
    const uint8_t *running = r->model;
    uint32_t running_size = r->size;
    fw_err e = load(r, model, size, arena, why);
    drop(r);
    if (running)
        start(ctx, running, running_size);
    return e;
}

void stop(void *ctx)
{
    Runner *r = static_cast<Runner *>(ctx);
    drop(r);
    r->model = nullptr;
}

/* Fill an input tensor with input `input_id` of the board's input sequence. */
void feed(TfLiteTensor *t, uint32_t input_id)
{
    size_t size = 1;
    tflite::TfLiteTypeSizeOf(t->type, &size); /* load() allowed only types it knows */
    size_t n = t->bytes / size;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = static_cast<uint32_t>(k);
        switch (t->type) {
        case kTfLiteInt8: t->data.int8[k] = fw_input_int8(input_id, i); break;
        case kTfLiteUInt8: t->data.uint8[k] = fw_input_uint8(input_id, i); break;
        case kTfLiteInt16: t->data.i16[k] = fw_input_int16(input_id, i); break;
        case kTfLiteInt32: t->data.i32[k] = fw_input_int32(input_id, i); break;
        default: t->data.f[k] = fw_input_float32(input_id, i); break; /* load() allows no other type */
        }
    }
}

fw_err invoke(void *ctx, uint32_t input_id, fw_output *out)
{
    Runner *r = static_cast<Runner *>(ctx);
    if (!r->interp)
        return FW_E_INFERENCE_FAILED;
    for (size_t i = 0; i < r->interp->inputs_size(); i++)
        feed(r->interp->input(i), input_id);
    if (r->interp->Invoke() != kTfLiteOk)
        return FW_E_INFERENCE_FAILED;
    const TfLiteTensor *o = r->interp->output(0);
    out->dtype = static_cast<uint8_t>(tensor_type(o->type));
    out->scale = o->params.scale;
    out->zero_point = o->params.zero_point;
    out->data = o->data.uint8;
    out->bytes = static_cast<uint32_t>(o->bytes);
    return FW_OK;
}

} // namespace

/* TFLM's logging hooks (tensorflow/lite/micro/debug_log.h): the library is built without
 * the tree's debug_log.cc, so every port gets the same capture. */
extern "C" void DebugLog(const char *format, va_list args)
{
    Log &l = g_log;
    if (l.len < sizeof l.line - 1) {
        int n = vsnprintf(l.line + l.len, sizeof l.line - l.len, format, args);
        if (n > 0)
            l.len = l.len + static_cast<size_t>(n) < sizeof l.line - 1 ? l.len + static_cast<size_t>(n) : sizeof l.line - 1;
    }
    if (l.len == 0 || l.line[l.len - 1] != '\n')
        return;
    while (l.len && (l.line[l.len - 1] == '\n' || l.line[l.len - 1] == '\r'))
        l.line[--l.len] = 0;
    if (!l.have_first) {
        static_assert(sizeof l.first == sizeof l.line, "a whole line fits");
        memcpy(l.first, l.line, l.len + 1);
        l.have_first = true;
    }
    l.len = 0;
}

extern "C" int DebugVsnprintf(char *buffer, size_t buf_size, const char *format, va_list vlist)
{
    return vsnprintf(buffer, buf_size, format, vlist);
}

fw_runner fw_tflm_runner_make(uint8_t *arena, uint32_t arena_bytes)
{
    Runner *r = &g_runner;
    drop(r);
    r->arena = arena;
    r->arena_bytes = arena_bytes;
    r->model = nullptr;
    r->size = 0;
    if (!r->resolver) { /* once per program: Add* refuses an operator twice */
        r->resolver = new (r->resolver_storage) Resolver();
        r->resolver_ready = register_ops(*r->resolver);
    }
    fw_runner it = {r, arena_bytes, check, start, stop, invoke, &kOpList};
    return it;
}
