#!/usr/bin/env bash
# Build the firmware images the tests drive, before pytest starts: the TFLM libraries take
# minutes on two cores, once per build tree (firmware/build), and would otherwise count
# against the first test's timeout. Whatever cannot be built here (no TFLM tree beside the
# repository, no Arm toolchain) is left out: the tests that need it skip and say why.
set -euo pipefail
cd "$(dirname "$0")/../firmware"
TFLM_TREES=../../shared/third_party/tflite-micro
targets=(posix-ref)
if command -v arm-none-eabi-gcc >/dev/null; then
    targets+=(qemu mps2-ref)
fi
if [ -f "${TFLM_DIR:-$TFLM_TREES/reference}/tensorflow/lite/micro/micro_interpreter.cc" ] && command -v g++ >/dev/null; then
    targets+=(posix fw_run-tflm)
fi
if [ -f "${TFLM_M4_DIR:-$TFLM_TREES/cmsis-nn}/tensorflow/lite/micro/micro_interpreter.cc" ] && command -v arm-none-eabi-g++ >/dev/null; then
    targets+=(mps2)
fi
echo "build_firmware: make ${targets[*]}"
start=$SECONDS
make -s -j"$(nproc)" "${targets[@]}" >/dev/null
echo "build_firmware: done in $((SECONDS - start)) s"
