#include "tflm_runner.h"

#include <TensorFlowLite.h>
#include <new>
#include <string.h>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"

extern "C" {
#include "fw_input.h"
}

namespace {

using Resolver = tflite::MicroMutableOpResolver<17>;

struct Runner {
    uint8_t *arena;
    uint32_t arena_bytes;
    Resolver resolver;
    alignas(tflite::MicroInterpreter) uint8_t storage[sizeof(tflite::MicroInterpreter)];
    tflite::MicroInterpreter *interp; /* in storage, or null */
    const uint8_t *model;             /* the running model, to restart it after a check */
    uint32_t size;
};

Runner g_runner;

/* The operators of the nano33ble profile (fleet/profiles.toml). */
void add_ops(Resolver &r)
{
    r.AddAdd(), r.AddAveragePool2D(), r.AddConv2D(), r.AddDepthwiseConv2D(), r.AddDequantize();
    r.AddFullyConnected(), r.AddLogistic(), r.AddMaxPool2D(), r.AddMean(), r.AddMul(), r.AddPad();
    r.AddQuantize(), r.AddRelu(), r.AddRelu6(), r.AddReshape(), r.AddSoftmax(), r.AddTanh();
}

void drop(Runner *r)
{
    if (r->interp)
        r->interp->~MicroInterpreter();
    r->interp = nullptr;
}

/* TfLiteType -> the schema's TensorType that INFER_RESULT carries (they differ for float). */
uint8_t tensor_type(TfLiteType t)
{
    switch (t) {
    case kTfLiteFloat32: return 0;
    case kTfLiteInt32: return 2;
    case kTfLiteUInt8: return 3;
    case kTfLiteInt16: return 7;
    default: return 9; /* kTfLiteInt8, the type of every model this runner deploys */
    }
}

void copy_why(char *why, const char *text)
{
    strncpy(why, text, FW_WHY_SIZE - 1);
    why[FW_WHY_SIZE - 1] = 0;
}

/* Load `model` into the arena: validity, operator support, tensor allocation. */
fw_err load(Runner *r, const uint8_t *model, uint32_t *arena, char *why)
{
    drop(r);
    const tflite::Model *m = tflite::GetModel(model);
    if (m->version() != TFLITE_SCHEMA_VERSION || !m->subgraphs() || m->subgraphs()->size() == 0)
        return FW_E_MODEL_INVALID;
    for (const auto *code : *m->operator_codes()) {
        tflite::BuiltinOperator op = tflite::GetBuiltinCode(code);
        if (!r->resolver.FindOp(op)) {
            copy_why(why, tflite::EnumNameBuiltinOperator(op));
            return FW_E_OP_UNSUPPORTED;
        }
    }
    r->interp = new (r->storage) tflite::MicroInterpreter(m, r->resolver, r->arena, r->arena_bytes);
    if (r->interp->AllocateTensors() != kTfLiteOk) {
        drop(r);
        *arena = r->arena_bytes + 1; /* TFLM does not say how much it needed: at least one more */
        return FW_E_ARENA_TOO_SMALL;
    }
    *arena = r->interp->arena_used_bytes();
    return FW_OK;
}

fw_err start(void *ctx, const uint8_t *model, uint32_t size)
{
    Runner *r = static_cast<Runner *>(ctx);
    char why[FW_WHY_SIZE];
    uint32_t arena;
    fw_err e = load(r, model, &arena, why);
    r->model = e == FW_OK ? model : nullptr;
    r->size = size;
    return e;
}

/* TFLM cannot hold two models in one arena: test-load the new model, then reload the
 * running one (models here are stateless, so nothing is lost but the load time). */
fw_err check(void *ctx, const uint8_t *model, uint32_t size, uint32_t *arena, char why[FW_WHY_SIZE])
{
    Runner *r = static_cast<Runner *>(ctx);
    (void)size;
    const uint8_t *running = r->model;
    fw_err e = load(r, model, arena, why);
    drop(r);
    if (running)
        start(ctx, running, r->size);
    return e;
}

void stop(void *ctx)
{
    Runner *r = static_cast<Runner *>(ctx);
    drop(r);
    r->model = nullptr;
}

fw_err invoke(void *ctx, uint32_t input_id, fw_output *out)
{
    Runner *r = static_cast<Runner *>(ctx);
    if (!r->interp)
        return FW_E_INFERENCE_FAILED;
    for (size_t i = 0; i < r->interp->inputs_size(); i++) {
        TfLiteTensor *t = r->interp->input(i);
        for (size_t k = 0; k < t->bytes; k++) /* the board's input sequence, as fw_input.h */
            t->data.int8[k] = t->type == kTfLiteUInt8 ? (int8_t)(fw_input_int8(input_id, k) + 128)
                                                       : fw_input_int8(input_id, k);
    }
    if (r->interp->Invoke() != kTfLiteOk)
        return FW_E_INFERENCE_FAILED;
    const TfLiteTensor *o = r->interp->output(0);
    out->dtype = tensor_type(o->type);
    out->scale = o->params.scale;
    out->zero_point = o->params.zero_point;
    out->data = o->data.uint8;
    out->bytes = o->bytes;
    return FW_OK;
}

} // namespace

fw_runner tflm_runner_make(uint8_t *arena, uint32_t arena_bytes)
{
    g_runner.arena = arena;
    g_runner.arena_bytes = arena_bytes;
    g_runner.interp = nullptr;
    g_runner.model = nullptr;
    add_ops(g_runner.resolver);
    fw_runner it = {&g_runner, arena_bytes, check, start, stop, invoke};
    return it;
}
