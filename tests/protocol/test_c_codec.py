"""The firmware's protocol tables (firmware/core/fw_proto.h, fw_layouts.h, fw_layouts.c) are
generated from the Python message table by tools/gen_c_codec.py: the checked-in C must be
what the table generates now, so a layout changed in Python alone fails here."""

import shutil
import subprocess
import sys
from pathlib import Path

from tools import gen_c_codec

ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_c_matches_the_python_message_table():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_c_codec.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_check_fails_when_the_c_drifts(tmp_path, capsys):
    for name in gen_c_codec.OUTPUTS:
        shutil.copy(gen_c_codec.CORE / name, tmp_path / name)
    assert gen_c_codec.main(["--check", "--dir", str(tmp_path)]) == 0
    layouts = tmp_path / "fw_layouts.h"
    layouts.write_text(layouts.read_text().replace("uint16_t host_max_payload;", "uint32_t host_max_payload;"))
    assert gen_c_codec.main(["--check", "--dir", str(tmp_path)]) == 1
    assert "fw_layouts.h" in capsys.readouterr().err


def test_every_message_has_a_c_layout_or_says_where_its_c_is():
    from fleet.protocol import messages

    header = (gen_c_codec.CORE / "fw_layouts.h").read_text()
    for cls in (*messages.REQUESTS.values(), *messages.RESPONSES.values(), *messages.EVENTS.values()):
        if cls.WIRE.fields:
            assert f"/* {cls.__name__}" in header or any(
                f"/* {base.__name__} */" in header for base in cls.__mro__[1:]
            ), cls.__name__
