"""A board whose results name a model its INFO did not list (a deploy activated it, another
host swapped it): its `BoardSession` reads INFO again once per read of such results, not
once per result, and not again while that refresh is under way; once INFO lists the model,
not at all. The board is scripted on a memory pipe: it sends each read in one write and
answers a refresh only when the test says, and every step waits on what the session
published or the board received, never on a clock."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

from fleet.board_session import BoardSession, SessionContext
from fleet.client import BoardClient
from fleet.config import FleetConfig
from fleet.manager import DEFAULT_STREAMS
from fleet.protocol import (
    Hello, InferResult, Info, Log, LogLevel, Message, Ping, Pong, SlotInfo, SlotState, StreamConfig, StreamConfigAck,
    encode_message,
)  # fmt: skip
from fleet.telemetry.events import ResultEvent, StateEvent
from fleet.telemetry.labels import ModelCatalog
from fleet.telemetry.state import BoardState
from fleet.transport.memory import MemoryTransport, memory_pipe
from tests.client.test_client_unit import INFO, Scripted
from tests.support.wait import until

PREFIX = bytes.fromhex("c0ffee01")  # the model the results name; INFO lists no model
LISTED = dataclasses.replace(INFO, active_slot=0, slots=(
    SlotInfo(SlotState.ACTIVE, 1000, 1000, PREFIX + bytes(28), "new", "2"), SlotInfo()))  # fmt: skip
HOUR = 3600.0  # housekeeping and rescans never come during a test


class RefreshingBoard:
    """The board end: answers the connect's HELLO, PINGs and STREAM_CONFIG at once; a later
    HELLO (a refresh) is held, its seq in `refreshes`, until `answer_refresh`."""

    def __init__(self, end: MemoryTransport) -> None:
        self.end = end
        self.refreshes: list[int] = []
        self._connected = False
        self._event_seq = 0
        Scripted(end, self._respond)

    def _respond(self, seq: int, msg: Message) -> bytes | None:
        if isinstance(msg, Hello):
            if not self._connected:
                self._connected = True
                return encode_message(INFO, seq)
            self.refreshes.append(seq)
            return None
        if isinstance(msg, Ping):
            return encode_message(Pong(1000, msg.data), seq)
        if isinstance(msg, StreamConfig):
            return encode_message(StreamConfigAck(*dataclasses.astuple(msg)), seq)
        return None

    async def answer_refresh(self, info: Info) -> None:
        await self.end.write(encode_message(info, self.refreshes[-1]))

    async def results(self, count: int, then: Message | None = None, more: int = 0) -> None:
        """One read, in one write: `count` INFER_RESULTs naming PREFIX; with `then`, that
        event and `more` results after it."""
        frames = [self._event(self._result()) for _ in range(count)]
        if then is not None:
            frames += [self._event(then)] + [self._event(self._result()) for _ in range(more)]
        await self.end.write(b"".join(frames))

    def _result(self) -> InferResult:
        n = self._event_seq + 1
        return InferResult(n * 1000, 400, n, n, PREFIX, 9, 0, 0.5, 0, b"\x05")

    def _event(self, msg: Message) -> bytes:
        self._event_seq += 1
        return encode_message(msg, self._event_seq)


@contextlib.asynccontextmanager
async def session_on(board: RefreshingBoard, host: MemoryTransport) -> AsyncIterator[tuple[BoardSession, list]]:
    """A board session on the host end of the scripted board's pipe, online; (it, what it published)."""
    published: list = []
    context = SessionContext(FleetConfig(), ModelCatalog(), DEFAULT_STREAMS, HOUR, HOUR, HOUR, HOUR,
                             published.append, lambda: None, published.extend)  # fmt: skip
    session = BoardSession(context, BoardState("b", INFO.uid.hex(), host.name), lambda: BoardClient.connect(host), None)
    session.start()
    try:
        await until(session.online.is_set, "the session online")
        yield session, published
    finally:
        await session.stop()


async def settled(session: BoardSession) -> None:
    """A round trip of the test's own, once what a read brought is published: a refresh that
    read spawned writes its HELLO in a loop step no later than this PING, so the board has it
    by the time the PING is answered."""
    await session.client.ping(b"mark")


async def test_an_unlisted_model_rereads_info_once_per_read_not_per_result_nor_during_a_refresh():
    host, end = memory_pipe()
    board = RefreshingBoard(end)
    async with session_on(board, host) as (session, published):

        def results() -> int:
            return sum(isinstance(e, ResultEvent) for e in published)

        def states() -> int:
            return sum(isinstance(e, StateEvent) for e in published)

        await board.results(5)  # five results naming a model INFO did not list, in one read
        await until(lambda: board.refreshes, "INFO read again")
        await board.results(5)  # another read while that refresh waits for its answer
        await until(lambda: results() == 10, "the second read's results published")
        await settled(session)
        assert len(board.refreshes) == 1, "INFO read again per result, or while a refresh was under way"

        before = states()
        await board.answer_refresh(INFO)  # the model is still not listed
        await until(lambda: states() > before, "the refreshed INFO's state published")
        await board.results(5)  # a read after the refresh: the model is read about once more
        await until(lambda: len(board.refreshes) == 2, "INFO read again after the refresh ended")

        before = states()
        await board.answer_refresh(LISTED)
        await until(lambda: states() > before, "the refreshed INFO's state published")
        assert session.state.active is not None and session.state.active.name == "new"
        await board.results(5)  # the model is listed now: no refresh
        await until(lambda: results() == 20, "the last read's results published")
        await settled(session)
        assert len(board.refreshes) == 2


async def test_a_read_whose_results_a_log_frame_splits_rereads_info_once():
    host, end = memory_pipe()
    board = RefreshingBoard(end)
    async with session_on(board, host) as (session, _):
        await board.results(2, then=Log(0, int(LogLevel.INFO), "between"), more=2)
        await until(lambda: board.refreshes, "INFO read again")
        await settled(session)
        assert len(board.refreshes) == 1
