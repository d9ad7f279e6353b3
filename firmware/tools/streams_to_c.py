"""Turn tests/golden/upload_streams.json into a C header for tests/test_inflate.c.

    python3 tools/streams_to_c.py ../tests/golden/upload_streams.json build/stream_vectors.h

Bytes become array initialisers (a pedantic C99 compiler refuses string literals over 4095
characters, and the models are longer). Standard library only, as tools/golden_to_c.py.
"""

import json
import sys

from golden_to_c import c_string


def c_bytes(name: str, hex_text: str) -> str:
    data = bytes.fromhex(hex_text)
    body = ",".join(str(b) for b in data) or "0"  # C99 has no empty initialiser
    return f"static const uint8_t {name}[] = {{{body}}};"


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    golden = json.load(open(source))
    lines = [
        f"/* Generated from {source} by tools/streams_to_c.py; do not edit. */",
        "",
        "typedef struct {",
        "    const char *name;",
        "    const uint8_t *model;",
        "    uint32_t size, start; /* the slot holds model[0, start) before the stream */",
        "    const uint8_t *base; /* NULL: a stream without a base */",
        "    uint32_t base_size;",
        "    const uint8_t *stream;",
        "    uint32_t stream_len;",
        "    long failed_at; /* -1: the stream rebuilds the model; else DECODE_FAILED at this offset */",
        "} stream_vector;",
        "",
    ]
    rows = []
    for i, v in enumerate(golden["vectors"]):
        lines.append(c_bytes(f"k_model_{i}", v["model"]))
        lines.append(c_bytes(f"k_stream_{i}", v["stream"]))
        base, base_len = "NULL", 0
        if v["base"] is not None:
            lines.append(c_bytes(f"k_base_{i}", v["base"]))
            base, base_len = f"k_base_{i}", len(v["base"]) // 2
        failed_at = -1 if v["expect"] == "model" else v["expect"]["decode_failed_at"]
        rows.append(
            f"    {{{c_string(v['name'])}, k_model_{i}, {len(v['model']) // 2}, {v['start']}, {base}, {base_len}, "
            f"k_stream_{i}, {len(v['stream']) // 2}, {failed_at}}},"
        )
    lines += ["", "static const stream_vector k_vectors[] = {", *rows, "};"]
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
