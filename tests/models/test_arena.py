"""measure_arena: exact figures for the example models, the cache, and failures."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.support.sim import require_sim

require_sim()  # runs virtual boards or models

from fleet.errors import ModelError  # noqa: E402
from fleet.models.arena import cache_dir, measure_arena  # noqa: E402
from fleet.models.bundled import bundled_model  # noqa: E402

# Smallest arena_size with which TFLM (tflite-micro 0.dev20261023182759, x86-64) allocates
# and invokes; checked by hand in fresh processes: one byte less fails.
BUNDLED = {"sine": 2192, "gesture": 3152}
EXPECTED = {
    "hello_world_int8.tflite": 1936,  # print_allocations says 1504: allocation needs more on the way
    "hello_world_float.tflite": 1936,
    "micro_speech_quantized.tflite": 7584,
    "person_detect.tflite": 85264,
    "audio_preprocessor_int8.tflite": 10216,
}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_exact_arena_bundled(name: str) -> None:
    assert measure_arena(bundled_model(name).read_bytes(), use_cache=False) == BUNDLED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_arena(shared_model, name: str) -> None:
    assert measure_arena(shared_model(name)) == EXPECTED[name]


def test_cache_makes_repeats_instant(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    data = bundled_model("gesture").read_bytes()
    assert measure_arena(data) == 3152
    (entry,) = (tmp_path / "arena").iterdir()
    assert json.loads(entry.read_text())["arena_bytes"] == 3152
    started = time.perf_counter()
    assert measure_arena(data) == 3152
    assert time.perf_counter() - started < 0.05


def test_corrupt_cache_entry_is_measured_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLEET_CACHE_DIR", str(tmp_path))
    data = bundled_model("sine").read_bytes()
    measure_arena(data)
    (entry,) = (tmp_path / "arena").iterdir()
    entry.write_text("{not json")
    assert measure_arena(data) == 2192
    assert json.loads(entry.read_text())["arena_bytes"] == 2192


def test_cache_location(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("FLEET_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "fleet"
    monkeypatch.setenv("FLEET_CACHE_DIR", os.fspath(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x"


def test_not_a_model() -> None:
    with pytest.raises(ModelError, match="not a TFLite model"):
        measure_arena(b"hello")


def test_unsupported_operator_is_explained() -> None:
    # sine with its FULLY_CONNECTED opcode rewritten to LSH_PROJECTION (code 15), which
    # TFLM does not implement: no arena size helps, and TFLM's reason is in the message.
    patched = _patch_opcode(bundled_model("sine").read_bytes(), 9, 15)
    with pytest.raises(ModelError, match="LSH_PROJECTION"):
        measure_arena(patched, use_cache=False)


def _patch_opcode(data: bytes, old: int, new: int) -> bytes:
    """Rewrite every operator code `old` to `new`, through the reader's own field positions."""
    from fleet.models.flatbuf import Buffer

    out = bytearray(data)
    for code in Buffer(data).root().tables(1, "operator_codes"):
        for field, fmt in ((0, "b"), (3, "i")):
            pos = code.field_position(field)
            if pos is not None and code.scalar(field, fmt, 0, "code") == old:
                out[pos : pos + (1 if fmt == "b" else 4)] = new.to_bytes(1 if fmt == "b" else 4, "little")
    return bytes(out)


def test_a_probe_that_crashes_the_child_counts_as_too_small(tmp_path) -> None:
    # 16 bytes makes TFLM segfault ("Failed to allocate tail memory"); the prober must
    # survive it, call it a failure, and carry on in a new child.
    from fleet.models.arena import _Prober

    model = tmp_path / "sine.tflite"
    model.write_bytes(bundled_model("sine").read_bytes())
    with _Prober(model, inputs=1) as prober:
        assert prober.probe(16) is False
        assert prober._crashes == 1  # the child died: this is the crash path
        assert prober.probe(2192) is True
        assert prober.probe(2191) is False


def _bit_flipped_sine(byte: int, bit: int) -> bytes:
    data = bytearray(bundled_model("sine").read_bytes())
    data[byte] ^= 1 << bit
    return bytes(data)


# Bit flips in sine that fleet's own reader accepts but TFLM's Python model reader does not:
# an offset that points past the end (struct.error), a negative count (TypeError).
@pytest.mark.parametrize(("byte", "bit", "reason"), [(93, 5, "unpack_from requires"), (233, 4, "bad number")])
def test_a_model_tflm_cannot_read_says_why(byte: int, bit: int, reason: str) -> None:
    with pytest.raises(ModelError, match=f"cannot read this model: .*{reason}") as info:
        measure_arena(_bit_flipped_sine(byte, bit), use_cache=False, name="flipped.tflite")
    assert str(info.value).startswith("flipped.tflite: ")
    assert info.value.hint and "corrupt" in info.value.hint


def test_a_probe_that_fails_in_python_reports_its_traceback(tmp_path) -> None:
    # A failure the probe does not expect (here: a request it cannot parse) must reach the
    # parent's message, not the probe's private log of TFLM's C-level stderr.
    from fleet.models.arena import _Prober

    model = tmp_path / "sine.tflite"
    model.write_bytes(bundled_model("sine").read_bytes())
    with _Prober(model, inputs=1) as prober, pytest.raises(ModelError) as info:
        prober._ask("probe", "many")  # type: ignore[arg-type]
    assert "ValueError: invalid literal for int() with base 10: 'many'" in str(info.value)
