"""The firmware with TensorFlow Lite Micro (runner/tflm, built from the pinned tree):

- the operator list it registers is generated from the tree and current, and what it
  reports (fw_op_list, for RUNTIME) is that list;
- every example model in ../shared/models, the bundled models, and small conv /
  depthwise / pooling / softmax / add models built with TensorFlow give, on the board's
  input sequence, outputs bit-identical to the TFLM host interpreter (the `tflite-micro`
  package): through fw_run-tflm for full sweeps, and deployed to the POSIX board over
  its PTY with the INFER_RESULT stream compared;
- a model with an operator the firmware lacks is refused at COMMIT with OP_UNSUPPORTED
  naming it; a too-small arena with ARENA_TOO_SMALL.

Skipped, with the reason, where the TFLM tree (or ../shared/models) is absent."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest

from fleet.models.inspect import inspect_model
from fleet.protocol import ActivateMode, ErrorCode, InferResult, LogLevel, ModelActivate, Stream, StreamConfig
from tests.support.board_link import BoardError, tflm_outputs
from tests.support.firmware import FIRMWARE, TFLM_TREE, PosixBoard, model_bytes, tflm_registered_ops
from tests.firmware.models import gesture, sine, variant
from tests.firmware.tf_models import OP_MODELS, tf_model

# The first test to need the TFLM build compiles the library (minutes on two cores).
pytestmark = pytest.mark.timeout(3000)

SHARED = ("hello_world_int8", "hello_world_float", "micro_speech_quantized", "audio_preprocessor_int8", "person_detect")
# Room for person_detect (300 KB flatbuffer, ~80 KB arena).
BIG_BOARD = ("--slot-bytes", "524288", "--arena-bytes", "262144")


def schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def fw_run(binary, model: bytes, tmp_path, first: int = 0, count: int = 256) -> dict[int, bytes] | str:
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    out = subprocess.run([str(binary), str(path), str(first), str(count)], capture_output=True, text=True, timeout=600)
    lines = out.stdout.split("\n")
    if not lines[0].startswith("arena "):
        return lines[0]
    return {int(k): bytes.fromhex(v) for k, v in (line.split() for line in lines[1:] if line)}


def test_operator_list_is_current_for_the_tree():
    if not TFLM_TREE.is_dir():
        pytest.skip(f"no TFLM source tree at {TFLM_TREE}")
    result = subprocess.run(
        [sys.executable, str(FIRMWARE / "tools" / "gen_tflm_ops.py"), "--check", str(TFLM_TREE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_reports_exactly_what_the_resolver_registers(tflm_build):
    out = subprocess.run([str(tflm_build.fw_run), "--ops"], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "runtime tflm 90b983c reference"
    builtins = [int(line.split()[1]) for line in lines if line.startswith("builtin ")]
    customs = [line.split()[1] for line in lines if line.startswith("custom ")]
    names, custom_names = tflm_registered_ops()
    codes = vars(schema().BuiltinOperator)
    assert builtins == [codes[name] for name in names]
    assert customs == custom_names
    # The Signal library operators of the bundled audio preprocessor are among them.
    assert {"SignalWindow", "SignalRfft", "SignalFilterBank", "SignalPCAN", "SignalFilterBankLog"} <= set(customs)
    assert len(builtins) > 90 and len(set(builtins)) == len(builtins)


def test_fw_run_with_tflm_refuses_garbage(tflm_build, tmp_path):
    assert fw_run(tflm_build.fw_run, b"\x00" * 64, tmp_path).startswith("error 10 ")  # MODEL_INVALID
    truncated = sine()[:500]
    assert fw_run(tflm_build.fw_run, truncated, tmp_path).startswith("error 10 ")


def edited_sine(edit) -> bytes:
    """sine with `edit(model, graph)` applied to its flatbuffer in place."""
    buf = bytearray(sine())
    model = schema().Model.GetRootAsModel(buf, 0)
    edit(model, model.Subgraphs(0))
    return bytes(buf)


def out_of_range_input(model, graph):
    graph.Operators(0).InputsAsNumpy()[0] = 1000


def weights_longer_than_their_data(model, graph):
    """The second layer's 16x16 weights read from the first layer's 64-byte bias buffer."""
    weights = graph.Tensors(int(graph.Operators(1).InputsAsNumpy()[1]))
    bias = graph.Tensors(int(graph.Operators(0).InputsAsNumpy()[2]))
    at = weights._tab.Pos + weights._tab.Offset(8)  # Tensor.buffer, field 2
    weights._tab.Bytes[at : at + 4] = bias.Buffer().to_bytes(4, "little")


@pytest.mark.parametrize("edit", [out_of_range_input, weights_longer_than_their_data], ids=lambda e: e.__name__)
def test_references_tflm_does_not_check_are_refused(tflm_build, tmp_path, edit):
    """TFLM trusts tensor indices and constant sizes: such models aborted (index) or read
    past the weights' data in fw_run-tflm (found by mutating sine's bytes)."""
    out = fw_run(tflm_build.fw_run, edited_sine(edit), tmp_path)
    assert out == "error 10 index out of range or constant too short"


@pytest.mark.parametrize("name", SHARED)
def test_shared_model_bit_identical_to_tflm(tflm_build, tmp_path, name):
    model = model_bytes(f"{name}.tflite")
    count = 24 if name == "person_detect" else 256
    ours = fw_run(tflm_build.fw_run, model, tmp_path, count=count)
    assert ours == tflm_outputs(model, range(count))


@pytest.mark.parametrize("name", ["sine", "gesture"])
def test_bundled_model_bit_identical_to_tflm(tflm_build, tmp_path, name):
    model = sine() if name == "sine" else gesture()
    ours = fw_run(tflm_build.fw_run, model, tmp_path)
    assert ours == tflm_outputs(model, range(256))


@pytest.mark.tf
@pytest.mark.parametrize("name", OP_MODELS)
def test_operator_model_bit_identical_to_tflm(tflm_build, tmp_path, name):
    model = tf_model(name)
    ours = fw_run(tflm_build.fw_run, model, tmp_path)
    assert ours == tflm_outputs(model, range(256))


@pytest.mark.tf
@pytest.mark.xfail(
    strict=True,
    reason="TFLM 90b983c (the pinned tree) forms a per-tensor FULLY_CONNECTED scale from the float "
    "product input x filter (kernel_util.cc, GetQuantizedConvolutionMultipler); the tflite-micro "
    "0.dev20261023 interpreter computes it in double, like the reference runner: 1 LSB apart on "
    "2 of 256 inputs. Passes (and must then lose this mark) once the tree and the package agree.",
)
def test_per_tensor_fully_connected_where_tree_and_package_differ(tflm_build, tmp_path):
    model = variant(31, consistent_bias=False, base=tf_model("fc_per_tensor"))
    assert fw_run(tflm_build.fw_run, model, tmp_path) == tflm_outputs(model, range(256))


def stream_and_compare(board: PosixBoard, model: bytes, name: str, count: int) -> list[InferResult]:
    """Deploy `model` to slot 0, stream `count` results, check each against the host
    interpreter run on input ids 0.. in order (stateful models see the same history)."""
    link = board.link()
    try:
        arena = link.upload(model, 0, name, "1")
        assert arena > 0
        link.request(ModelActivate(0, ActivateMode.TEST))
        link.request(StreamConfig(Stream.RESULTS, LogLevel.INFO, 0, 100, 0))
        results = link.take_events(InferResult, count, timeout=120)
    finally:
        link.close()
    expected = tflm_outputs(model, range(max(r.input_id for r in results) + 1))
    dtype = {"int8": 9, "float32": 0}[inspect_model(model).outputs[0].dtype]
    for r in results:
        assert r.model_prefix == hashlib.sha256(model).digest()[:4]
        assert r.dtype == dtype and r.format == 0
        assert r.data == expected[r.input_id], f"input {r.input_id}"
    return results


@pytest.fixture
def tflm_board(tflm_build, tmp_path):
    board = PosixBoard(tflm_build.posix, tmp_path / "state", *BIG_BOARD)
    yield board
    board.stop()


@pytest.mark.parametrize("name", SHARED)
def test_shared_model_on_the_board(tflm_board, name):
    model = model_bytes(f"{name}.tflite")
    results = stream_and_compare(tflm_board, model, name, 5 if name == "person_detect" else 20)
    # Latency is the board's own clock around invoke (fw_streams.c): person_detect's
    # millions of multiply-adds cannot take 0 µs.
    if name == "person_detect":
        assert all(r.latency_us > 0 for r in results)


@pytest.mark.tf
@pytest.mark.parametrize("name", OP_MODELS)
def test_operator_model_on_the_board(tflm_board, name):
    stream_and_compare(tflm_board, tf_model(name), name, 10)


def test_gesture_runs_on_the_tflm_board(tflm_board):
    """RESHAPE, which the reference runner refuses, is one of TFLM's operators."""
    stream_and_compare(tflm_board, gesture(), "gesture", 10)


def with_builtin(model: bytes, old: str, new: str) -> bytes:
    """`model` with operator code `old` (a BuiltinOperator name) turned into `new`."""
    s = schema()
    buf = bytearray(model)
    m = s.Model.GetRootAsModel(buf, 0)
    codes = vars(s.BuiltinOperator)
    for i in range(m.OperatorCodesLength()):
        code = m.OperatorCodes(i)
        if code.BuiltinCode() == codes[old]:
            # builtin_code (int32, field 3) and the deprecated int8 field (0) both name it.
            tab = code._tab
            for field, width, value in ((10, 4, codes[new]), (4, 1, min(codes[new], 127))):
                offset = tab.Offset(field)
                if offset:
                    buf[tab.Pos + offset : tab.Pos + offset + width] = value.to_bytes(width, "little", signed=True)
            return bytes(buf)
    raise AssertionError(f"{old} not in the model")


def test_an_operator_the_firmware_lacks_is_refused_at_commit(tflm_board):
    builtins, _ = tflm_registered_ops()
    lacking = next(name for name in ("LSH_PROJECTION", "SKIP_GRAM", "HASHTABLE_LOOKUP") if name not in builtins)
    model = with_builtin(sine(), "FULLY_CONNECTED", lacking)
    link = tflm_board.link()
    try:
        with pytest.raises(BoardError) as err:
            link.upload(model, 0)
        assert err.value.code == ErrorCode.OP_UNSUPPORTED and err.value.text == lacking
    finally:
        link.close()


def test_a_custom_operator_the_firmware_lacks_is_refused_at_commit(tflm_board):
    model = model_bytes("audio_preprocessor_int8.tflite").replace(b"SignalWindow", b"SignalWindoX")
    link = tflm_board.link()
    try:
        with pytest.raises(BoardError) as err:
            link.upload(model, 0)
        assert err.value.code == ErrorCode.OP_UNSUPPORTED and err.value.text == "SignalWindoX"
    finally:
        link.close()


def test_an_arena_too_small_is_refused_with_a_lower_bound(tflm_build, tmp_path):
    board = PosixBoard(tflm_build.posix, tmp_path / "state", "--arena-bytes", "4096")
    link = board.link()
    try:
        with pytest.raises(BoardError) as err:
            link.upload(model_bytes("micro_speech_quantized.tflite"), 0)
        assert err.value.code == ErrorCode.ARENA_TOO_SMALL and err.value.detail > 4096
    finally:
        link.close()
        board.stop()


@pytest.mark.system
def test_the_runner_compiles_for_cortex_m4_with_cmsis_nn(tmp_path):
    """What the Nano 33 BLE and Cortex-M4 ports compile: the same runner against the
    CMSIS-NN tree, reporting its kernels."""
    tree = TFLM_TREE.parent / "cmsis-nn"
    if not tree.is_dir():
        pytest.skip(f"no CMSIS-NN TFLM tree at {tree}")
    if not shutil.which("arm-none-eabi-g++"):
        pytest.skip("arm-none-eabi-g++ (with libstdc++-arm-none-eabi-newlib) is not installed")
    includes = [tree, *(tree / "third_party" / d for d in ("flatbuffers/include", "gemmlowp", "ruy", "kissfft",
                "cmsis_nn", "cmsis_nn/Include", "cmsis/CMSIS/Core/Include"))]  # fmt: skip
    obj = tmp_path / "runner.o"
    result = subprocess.run(
        ["arm-none-eabi-g++", "-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
         "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-Wall", "-Wextra", "-Werror",
         *(f"-I{FIRMWARE / d}" for d in ("core", "runner", "runner/tflm")), *(f"-isystem{d}" for d in includes),
         "-DTF_LITE_STATIC_MEMORY", "-DCMSIS_NN", '-DFW_TFLM_COMMIT="90b983c"',
         "-c", str(FIRMWARE / "runner" / "tflm" / "fw_tflm_runner.cpp"), "-o", str(obj)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert b"tflm 90b983c cmsis-nn" in obj.read_bytes()
