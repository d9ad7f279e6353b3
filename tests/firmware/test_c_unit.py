"""The C side's own tests, run from pytest so one command covers both languages:
`make -C firmware test` (unit + golden vectors, ASan/UBSan) and the libFuzzer run."""

from __future__ import annotations

import shutil

import pytest

from tests.support.firmware import make


def test_c_unit_tests_pass_under_sanitizers():
    result = make("test")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for module in ("crc32", "cobs", "sha256", "frame", "device", "streams", "runner", "golden", "inflate", "inflate_zlib",
                   "upload_stream"):
        assert f"{module} " in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(1200)  # ~4 min on two idle cores (one job per core)
def test_decoder_fuzz_million_inputs():
    if not shutil.which("clang"):
        pytest.skip("clang (libFuzzer) is not installed")
    result = make("fuzz", timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "fuzz: Done 1000000 runs" in result.stderr
