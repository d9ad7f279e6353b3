#!/usr/bin/env bash
# Set up a fresh machine for fleet: system packages (when we may install them) and a
# virtual environment in .venv with fleet and every extra. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools for firmware-in-the-loop and remote-port tests (g++ builds TFLM for the POSIX
# board; libstdc++-arm-none-eabi-newlib lets Cortex-M ports link it), and tmux for TUI smoke tests.
APT_PACKAGES=(make gcc g++ clang socat ser2net mosquitto openssl tmux gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm zlib1g-dev)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "setup: installing ${missing[*]}"
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: cannot install ${missing[*]} (not root); tests that need them will be skipped" >&2
    fi
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
.venv/bin/python -m pip install -q -e '.[sim,tf,bench,mqtt,meter,dev]'
