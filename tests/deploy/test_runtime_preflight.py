"""Pre-flight against what a board says it can run (RUNTIME), before any byte of the model
is sent: the board's own list wins over its kind's profile, and a board that says
nothing and has no profile gets a warning instead of "all supported"."""

from __future__ import annotations

import asyncio
import os
import sys

from fleet.deploy.board_deploy import BoardDeploy
from fleet.deploy.preflight import preflight, runtime_operators
from fleet.models._schema_names import BUILTIN_OPS
from fleet.protocol import NO_SLOT, Capability, Info, MsgType, RuntimeInfo, SlotInfo
from fleet.sim import engine as sim_engine
from fleet.sim.runtime import board_runtime
from tests.deploy.test_board_deploy import FAST, NO_POOLING

from .conftest import Events, record_requests, target_for


async def test_the_boards_own_list_wins_over_its_profile(limited_board, gesture):
    # A pico whose firmware lacks AVERAGE_POOL_2D, which the stock pico profile lists.
    board = await limited_board(**NO_POOLING)
    seen = record_requests(board)
    result = await BoardDeploy(target_for(board, "p1"), gesture, FAST, Events()).run()
    runtime = board_runtime(board.engine.profile).runtime
    assert result.outcome == "refused"
    assert result.reason == f"board p1 ({runtime}) cannot run AVERAGE_POOL_2D (unsupported operators)"
    assert seen == [MsgType.HELLO, MsgType.RUNTIME]  # no MODEL_BEGIN, no chunk


async def test_cli_refuses_with_exit_3_naming_the_operator(limited_board, gesture, tmp_path):
    board = await limited_board(**NO_POOLING)
    seen = record_requests(board)
    (tmp_path / "devices.toml").write_text(f'[boards.lite]\nport = "{board.port}"\n')
    env = {**os.environ, "FLEET_CONFIG": str(tmp_path / "devices.toml"), "FLEET_SIM_REGISTRY": str(tmp_path / "reg")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fleet", "deploy", str(gesture.path), "--to", "lite", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 3, out.decode() + err.decode()
    runtime = board_runtime(board.engine.profile).runtime
    assert f"lite: refused: board lite ({runtime}) cannot run AVERAGE_POOL_2D (unsupported operators)" in out.decode()
    assert MsgType.MODEL_BEGIN not in seen and MsgType.RUNTIME in seen


async def test_without_profile_or_runtime_the_check_is_a_warning_and_commit_decides(limited_board, gesture,
                                                                                    monkeypatch):  # fmt: skip
    monkeypatch.setattr(sim_engine, "CAPABILITIES", sim_engine.CAPABILITIES & ~Capability.RUNTIME)
    board = await limited_board(name="homebrew", **NO_POOLING)  # a kind fleet has no profile for
    events = Events()
    result = await BoardDeploy(target_for(board, "hb"), gesture, FAST, events).run()
    verdict = events.last("preflight").reason
    assert "operators NOT checked" in verdict and "does not declare RUNTIME" in verdict
    assert "supported" not in verdict.replace("unsupported", "")
    # Nothing stopped the upload; the board's test-load refused the operator by name.
    assert result.outcome == "failed" and "AVERAGE_POOL_2D" in result.reason


def test_runtime_operators_are_named_as_model_inspection_names_them():
    runtime = RuntimeInfo("r 1", (3, 300), ("SignalWindow",))
    assert runtime_operators(runtime) == {"CONV_2D", "BUILTIN_300", "SignalWindow"}


def test_preflight_checks_every_operator_against_the_runtime(gesture):
    info = Info(1, NO_SLOT, 1024, int(Capability.RUNTIME), 4096, 10**6, 10**6, 1, b"\x01", "pico", "x",
                (SlotInfo(), SlotInfo()))  # fmt: skip
    needed = tuple(BUILTIN_OPS.index(op) for op in gesture.info.ops)
    ok = preflight(gesture, info, "b", RuntimeInfo("r 1", needed))
    assert ok.ok and f"all {len(needed)} operator types in the board's runtime (r 1)" in ok.report.message
    first, *_ = gesture.info.ops
    short = preflight(gesture, info, "b", RuntimeInfo("r 1", needed[1:]))
    assert not short.ok and short.reasons == (f"board b (r 1) cannot run {first} (unsupported operators)",)
