#!/usr/bin/env bash
# The README's test command: set up everything on a fresh machine, then run every test.
# Extra arguments go to pytest (e.g. `bash tools/test.sh -m "not slow and not system and not tf"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build_firmware.sh
exec .venv/bin/python -m pytest "$@"
