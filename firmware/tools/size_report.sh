#!/bin/sh
# Size of the protocol core for a Cortex-M4F (e.g. the nRF52840) at -Os: framing, codec, SHA-256, A/B slots,
# stream scheduler and dispatcher (everything in core/ a board links; not the runner,
# not a port). Frame buffers are caller-owned and not included.
#
#   firmware/tools/size_report.sh        (or: make -C firmware size)
set -eu
cd "$(dirname "$0")/.."
OUT=${BUILD:-build}/size
CC=${ARM_CC:-arm-none-eabi-gcc}
FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -std=c99 -ffunction-sections -fdata-sections -fstack-usage -Wall -Werror -Icore"
mkdir -p "$OUT"
rm -f "$OUT"/*.o "$OUT"/*.su
for src in core/fw_*.c tools/size_probe.c; do
    $CC $FLAGS -c "$src" -o "$OUT/$(basename "$src" .c).o"
done

echo "== per object (arm-none-eabi-size, Cortex-M4 -Os) =="
arm-none-eabi-size -t "$OUT"/fw_*.o

# Link only what a board reaches from its calls into the core (gc-sections), with
# newlib-nano's memcpy/memset/strlen/memcmp/memmove, the only library calls it makes.
$CC $FLAGS -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,-e,fw_size_probe \
    -Wl,-Map="$OUT/core.map" "$OUT"/*.o -o "$OUT/core.elf"
echo
echo "== linked protocol core (gc-sections; .bss is the fw_device state) =="
arm-none-eabi-size -A "$OUT/core.elf" | awk '$1 ~ /^\.(text|rodata|data|bss)/'
arm-none-eabi-size "$OUT/core.elf"
echo
echo "== deepest stack frames (bytes) =="
cat "$OUT"/*.su | sort -t"$(printf '\t')" -k2 -n -r | head -5

# Whole firmware images (IMAGES, from make size): flash is what the image loads (code,
# constants, constructors, .data's initial values); RAM is .data + .bss + .noinit (the RAM
# slot store), not counting the stack the linker script reserves below the top of RAM.
for elf in ${IMAGES:-}; do
    echo
    echo "== $elf =="
    arm-none-eabi-size -A "$elf" | awk '
        $1 ~ /^\.(text|init_array|ARM\.exidx|data)$/ { flash += $2 }
        $1 ~ /^\.(data|bss|noinit)$/ { ram += $2 }
        END { printf "flash %d B (%.1f KB), RAM %d B (%.1f KB)\n", flash, flash / 1024, ram, ram / 1024 }'
    echo "largest RAM objects (bytes):"
    arm-none-eabi-nm --size-sort -S -C -t d "$elf" |
        awk '$3 ~ /^[bBdD]$/ { name = $0; sub(/^[^ ]+ +[^ ]+ +[^ ]+ +/, "", name); printf "  %9d %s\n", $2, name }' |
        tail -6 | sort -n -r
done
