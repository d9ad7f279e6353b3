/* The headers most of TFLM's kernels include, precompiled once per library (tflm.mk).
 *
 * Parsing these headers is ~90 % of compiling a TFLM kernel (g++ -ftime-report: "phase
 * parsing" + "lang. deferred"), so a precompiled copy roughly halves the library's build,
 * the slowest step of CI. Each .cc of the tree is compiled with -include of this file;
 * the include guards make the kernels' own #includes of the same headers no-ops.
 * Only headers shared by many kernels belong here: one that a kernel does not want would
 * still be parsed into it. */
#include "tensorflow/lite/c/builtin_op_data.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/kernels/internal/common.h"
#include "tensorflow/lite/kernels/internal/quantization_util.h"
#include "tensorflow/lite/kernels/internal/tensor_ctypes.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/memory_helpers.h"
#include "tensorflow/lite/micro/micro_utils.h"
