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

# Framing, codec and dispatcher against their 4 KB flash target (firmware/README.md, Size).
protocol=$(for o in cobs crc32 frame wire msg layouts device; do echo "$OUT/fw_$o.o"; done |
    xargs arm-none-eabi-size | awk 'NR > 1 { n += $1 + $2 } END { print n }')
echo
echo "framing + codec + dispatcher: $protocol B of flash (target 4096 B)"
if [ "$protocol" -gt 4096 ]; then
    echo "size: framing + codec + dispatcher are over their 4 KB" >&2
    exit 1
fi

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

# The encoded-upload decoder against its budget (issue 17): flash is the object's code and
# constants; RAM its state (a fw_inflate, inside the device's slots) plus its deepest stack:
# the longest call chain from its entry points in GCC's call graph (-fcallgraph-info=su:
# frame sizes and calls; the decoder does not recurse), the slot store's own write excluded.
echo
echo "== encoded-upload decoder: core/fw_inflate.c (budget: flash 2048 B, RAM 512 B) =="
printf '#include "fw_inflate.h"\nfw_inflate fw_inflate_state;\n' | $CC $FLAGS -x c -c - -o "$OUT/inflate_state.o"
flash=$(arm-none-eabi-size -A "$OUT/fw_inflate.o" | awk '$1 ~ /^\.(text|rodata|data)/ { n += $2 } END { print n }')
state=$(arm-none-eabi-nm -S -t d "$OUT/inflate_state.o" | awk '$4 == "fw_inflate_state" { print $2 + 0 }')
$CC $FLAGS -fcallgraph-info=su -c core/fw_inflate.c -o "$OUT/inflate_cg.o"
stack=$(awk '
    function quoted(key,   s) { s = substr($0, index($0, key) + length(key) + 2); return substr(s, 1, index(s, "\"") - 1) }
    /^node:/ { n = quoted("title:"); bytes[n] = match($0, /[0-9]+ bytes/) ? substr($0, RSTART, RLENGTH - 6) + 0 : 0 }
    /^edge:/ { from[++edges] = quoted("sourcename:"); to[edges] = quoted("targetname:") }
    function depth(n,   i, d, best) {
        for (i = 1; i <= edges; i++)
            if (from[i] == n && (d = depth(to[i])) > best)
                best = d
        return bytes[n] + best
    }
    END { a = depth("fw_inflate_feed"); b = depth("fw_inflate_open"); print (a > b ? a : b) }' "$OUT/inflate_cg.ci")
ram=$((state + stack))
echo "flash $flash B (text + rodata + data)"
echo "RAM   $ram B (state $state B + deepest stack $stack B)"
if [ "$flash" -gt 2048 ] || [ "$ram" -gt 512 ]; then
    echo "size: the decoder is over its budget" >&2
    exit 1
fi

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
