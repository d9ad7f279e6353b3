#!/usr/bin/env bash
# The README's test command: set up everything on a fresh machine, then run every test.
# Extra arguments go to pytest (e.g. `bash tools/test.sh -m "not slow and not system and not tf"`).
#
# The firmware images (two TFLM libraries: most of the run's CPU time) are built in the
# background at idle priority while the Python tests run; pytest runs the firmware tests
# last and waits for the build first (tests/support/firmware_build.py). The build's output goes to
# firmware/build/build_firmware.log.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

mkdir -p firmware/build
status="$PWD/firmware/build/build_firmware.status"
echo running >"$status"
idle=(nice -n 19)
if chrt --idle 0 true 2>/dev/null; then
    idle=(chrt --idle 0)
fi
# Its own process group, so an early end of pytest stops every compiler it started.
setsid "${idle[@]}" bash -c 'bash tools/build_firmware.sh >firmware/build/build_firmware.log 2>&1; echo $? >"$1"' _ "$status" &
build=$!
trap 'kill -- -"$build" 2>/dev/null || true' EXIT

rc=0
FLEET_FIRMWARE_BUILD_STATUS="$status" .venv/bin/python -m pytest "$@" || rc=$?
tail -n 1 firmware/build/build_firmware.log 2>/dev/null || true
exit "$rc"
