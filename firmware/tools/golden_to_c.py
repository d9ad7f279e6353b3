"""Turn tests/golden/frames.json into a C header for tests/test_golden.c.

    python3 tools/golden_to_c.py ../tests/golden/frames.json build/golden_vectors.h

Each valid frame carries its fields flattened to one canonical line ("name=value ...",
nested slots in [{...}|{...}], lists of plain values as [a,b], bytes as hex, floats as %.9g) that the C test prints
from what it decoded, so C and Python are compared field by field, not just by bytes.
Standard library only: the firmware build needs no project packages.
"""

import json
import sys


def canonical(value) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={canonical(v)}" for k, v in value.items())
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return "[" + "|".join("{" + canonical(v) + "}" for v in value) + "]"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, float):
        return format(value, ".9g")
    return str(value)


def c_string(text: str) -> str:
    return '"' + "".join(ch if ch.isprintable() and ch not in '"\\' else f"\\x{ord(ch):02x}" for ch in text) + '"'


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    golden = json.load(open(source))
    lines = [f"/* Generated from {source} by tools/golden_to_c.py; do not edit. */", ""]
    lines.append("static const golden_frame k_frames[] = {")
    for f in golden["frames"]:
        lines.append(
            f"    {{{c_string(f['name'])}, {c_string(f['class'])}, {f['type']}, {f['flags']}, {f['seq']}, "
            f"{c_string(f['hex'])}, {c_string(canonical(f['fields']))}}},"
        )
    lines.append("};")
    lines.append("static const golden_invalid k_invalid[] = {")
    for f in golden["invalid"]:
        lines.append(f"    {{{c_string(f['name'])}, {c_string(f['hex'])}, {c_string(f['error'])}}},")
    lines.append("};")
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
