"""The fleet manager: the one owner of the connected boards, and the source of truth the
CLI and the TUI render.

    async with FleetManager(load_config()) as fleet:          # discover, connect, stream
        consumer = fleet.subscribe()
        async for event in consumer:                          # results, power, logs, state...
            row = fleet.boards[event.uid]                     # BoardState, kept up to date

What it does:

- Connects to every board discovery finds (or that a test hands it with `add_board`),
  and keeps rescanning: new boards appear; a board whose link drops goes `reconnecting`,
  then `offline` after `offline_after_s`, and comes back to the same entry (same uid)
  on whatever port it re-enumerates as.
- Turns streams on with STREAM_CONFIG (only those the board declares), again after every
  reconnect and every reset (a reset turns streams off), and re-estimates the board
  clock (PING) then and every `clock_sync_interval_s`.
- Converts board events to telemetry events (`fleet.telemetry.events`), applies each to
  the board's `BoardState`, then fans it out through an `EventHub`: bounded queues per
  consumer, drops counted per consumer. The per-board readers never wait for consumers.
- Records sessions (`start_recording`) and runs deploys through its own connections
  (`deploy`), publishing every deploy step as an event.
- Treats a uid as a claim: when it answers on two ports at once (one a scan probed, the
  other a scan probed or a live connection), the board goes `conflict` naming both ports,
  its connection is dropped, and `deploy`/`wait_online` raise `UidConflict` for it, until
  a scan hears that uid on one port only (or, for a conflict `add_board` met, until one of
  the boards is left: fleet/claims.py; docs/architecture.md, "Board identity").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fleet.board_session import CONNECT_TIMEOUT_S, BoardSession, PortConnector, SessionContext
from fleet.cancel import cancel_and_wait
from fleet.claims import Claims
from fleet.client import BoardClient
from fleet.config import FleetConfig
from fleet.connect import Connector
from fleet.deploy.board_deploy import BoardResult, DeployOptions, DeployTarget
from fleet.deploy.compose import deploy_options, plan_rollout
from fleet.deploy.events import DeployEvent
from fleet.deploy.model_file import ModelFile, load_model_file
from fleet.deploy.preflight import Preflight, preflight
from fleet.deploy.rollout import Strategy, run_rollout
from fleet.discovery import ScanResult, board_for_uid, default_name, find_candidates, flag_conflicts, probe
from fleet.errors import ConfigError, FleetError, FleetTimeout, RecordingError, UidConflict
from fleet.models.manifest import Manifest
from fleet.protocol import LogLevel, Stream, StreamConfig
from fleet.targets import select
from fleet.telemetry.events import DeployNotice, PowerEvent, ResultEvent, TelemetryEvent
from fleet.telemetry.fanout import Consumer, EventHub
from fleet.telemetry.labels import ModelCatalog
from fleet.telemetry.recording import RecordingWriter
from fleet.telemetry.state import BoardState

__all__ = ["DEFAULT_STREAMS", "BoardState", "Connector", "FleetManager"]

# Results at 20/s and power at 10/s: plenty for a live view, light on a 115200-baud link.
DEFAULT_STREAMS = StreamConfig(Stream.RESULTS | Stream.POWER | Stream.LOG, LogLevel.INFO, 50, 100, 0)
# Ports that did not answer as a fleet board are probed again only after this long.
PROBE_BACKOFF_S = 15.0
# Deploy outcomes after which a board's slots differ from its last INFO.
_SLOTS_CHANGED = frozenset({"confirmed", "rolled_back", "failed", "unknown"})


@dataclass(frozen=True, slots=True)
class _Addr:
    """What `--to` matches against for a board not yet managed."""

    name: str
    uid: str | None
    port: str
    tags: tuple[str, ...]


class FleetManager:
    """Owns the connected boards; see the module doc. Use `async with`, or `start()`/`stop()`."""

    def __init__(
        self,
        config: FleetConfig | None = None,
        *,
        streams: StreamConfig = DEFAULT_STREAMS,
        rescan_interval_s: float = 2.0,
        offline_after_s: float = 10.0,
        clock_sync_interval_s: float = 30.0,
        link_interval_s: float = 1.0,
        target: str = "all",
        discover: bool = True,
        catalog: ModelCatalog | None = None,
    ) -> None:
        self.config = config or FleetConfig()
        self.streams = streams
        self.rescan_interval_s = rescan_interval_s
        self.offline_after_s = offline_after_s
        self.clock_sync_interval_s = clock_sync_interval_s
        self.link_interval_s = link_interval_s
        self.target = target
        self.discover = discover
        self.catalog = catalog or ModelCatalog()
        self.hub = EventHub()
        self._session_context = SessionContext(
            self.config, self.catalog, streams, offline_after_s, rescan_interval_s, clock_sync_interval_s,
            link_interval_s, self.publish, self.request_scan, self.publish_stream,
        )  # fmt: skip
        self.recording: RecordingWriter | None = None
        self.last_scan: list[ScanResult] = []
        self._sessions: dict[str, BoardSession] = {}
        self._boards: dict[str, BoardState] = {}
        self._probe_after: dict[str, float] = {}
        self._conflicts: dict[str, UidConflict] = {}  # uids answering on several ports, not managed
        self._claims: dict[str, Claims] = {}  # conflicts add_board met: watched without discovery
        self._claim_tasks: dict[str, asyncio.Task[None]] = {}
        self._scanner: asyncio.Task[None] | None = None
        self._scan_now = asyncio.Event()  # a board dropped off: look for it without waiting
        self._started = False
        self._stopping = False

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> FleetManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, *, settle_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        """Discover and connect (waiting until every board found is online or has failed
        once, at most `settle_timeout_s`), then keep rescanning for hotplug.

        Raises ConfigError if the target names nothing discovery found (when it found any).
        """
        if self._started:
            return
        self._started = True
        if self.discover:
            await self.scan_once()
            if not self._sessions and self.target != "all":
                found = [_addr(r) for r in self.last_scan if r.status == "ok"]
                if found:
                    select(found, self.config, self.target)  # raises, naming what exists
            self._scanner = asyncio.get_running_loop().create_task(self._scan_loop(), name="fleet rescan")
        await self.wait_settled(settle_timeout_s)

    async def wait_settled(self, timeout_s: float) -> None:
        """Wait until every board has connected or failed at least once (or the timeout)."""
        waits = [s.settled.wait() for s in self._sessions.values()]
        if waits:
            with contextlib.suppress(TimeoutError):  # not wait_for: see BoardSession._sleep
                async with asyncio.timeout(timeout_s):
                    await asyncio.gather(*waits)

    async def stop(self) -> None:
        """Stop recording, disconnect every board, end every consumer."""
        self._stopping = True
        if self._scanner is not None:
            await cancel_and_wait(self._scanner)
            self._scanner = None
        await cancel_and_wait(*self._claim_tasks.values())
        await asyncio.gather(*(s.stop() for s in self._sessions.values()))
        try:
            await self.stop_recording()
        finally:
            self.hub.close()

    # --- what consumers use ----------------------------------------------------------

    @property
    def boards(self) -> Mapping[str, BoardState]:
        """Every board ever seen this session, by uid (read-only; states update in place)."""
        return MappingProxyType(self._boards)

    def board(self, key: str) -> BoardState:
        """A board by uid, name or port; KeyError otherwise."""
        if key in self._boards:
            return self._boards[key]
        for state in self._boards.values():
            if key in (state.name, state.port):
                return state
        raise KeyError(key)

    def client(self, uid: str) -> BoardClient | None:
        """The live client of a board, if it is online (do not close it: the manager owns it)."""
        session = self._sessions.get(uid)
        return session.live_client if session else None

    def preflight(self, model: ModelFile, uid: str) -> Preflight | None:
        """Pre-flight of `model` on a board that is online, from its latest INFO, without a
        request (safe from a thread); None when the board is not online."""
        client = self.client(uid)
        if client is None or client.info is None:
            return None
        return preflight(model, client.info, self._boards[uid].name)

    def subscribe(self, maxsize: int = 4096, name: str = "") -> Consumer:
        """A consumer receiving every event from now on; on overflow it drops and counts."""
        return self.hub.subscribe(maxsize, name)

    def register_model(self, path: str | os.PathLike[str]) -> Manifest | None:
        """Learn the labels of a model file from the manifest beside it (if any)."""
        return self.catalog.add_model_file(path)

    # --- adding boards ---------------------------------------------------------------

    async def add_board(
        self, connector: Connector, *, name: str | None = None, tags: tuple[str, ...] = (), port: str | None = None
    ) -> BoardState:
        """Manage a board reached through `connector` (called again to reconnect).

        Connects once now to learn the board's uid; a uid already managed keeps its entry
        (and from now on reconnects through this connector). For tests and for callers that
        bring their own transports: no discovery is involved.

        Raises UidConflict, and puts the board in `conflict`, when the uid is connected
        through another connection right now (or already in conflict): two boards claim it.
        The conflict ends, and the board is managed again, once one claimant is left
        (fleet/claims.py; a conflict a scan heard, when a scan hears the uid on one port).
        """
        client = await connector()
        assert client.info is not None
        uid = client.info.uid.hex()
        session = self._sessions.get(uid)
        elsewhere = session.client if session is not None else None
        # One board cannot answer on a second connection while its first is up (a port it is
        # connected on is locked): a live first connection means a second board.
        if uid in self._conflicts or (elsewhere is not None and elsewhere.connected):
            conflict = await self._claim(uid, connector, client)
            raise UidConflict(conflict.uid, conflict.ports)
        if session is not None:
            session.connector = connector
            await client.close()
            session.wake.set()
            return session.state
        named = board_for_uid(self.config, uid)
        state = BoardState(
            name=name or (named[0] if named else default_name(client.info.board_kind, uid)), uid=uid,
            port=port or client.transport.name, tags=tags or (named[1].tags if named else ()),
        )  # fmt: skip
        self._start_session(state, connector, first_client=client)
        return state

    async def _claim(self, uid: str, connector: Connector, client: BoardClient) -> UidConflict:
        """`client` answers as `uid`, which is connected elsewhere or in conflict: the uid's
        conflict, entered (or widened), with every claimant watched until one is left."""
        known, claims = self._conflicts.get(uid), self._claims.get(uid)
        if known is not None and claims is None:
            await client.close()  # a conflict a scan heard: scans end it
            return known
        port = client.transport.name
        if known is None:  # the uid's session is connected: its board is the first claimant
            session = self._sessions[uid]
            assert session.client is not None
            conflict = UidConflict(uid, (session.client.transport.name, port))
            claims = self._claims[uid] = Claims(uid, self.rescan_interval_s, CONNECT_TIMEOUT_S)
            claims.add(session.connector)
            self._claim_tasks[uid] = asyncio.get_running_loop().create_task(self._settle_claims(claims),
                                                                            name=f"claims on {uid}")  # fmt: skip
        else:
            conflict = known if port in known.ports else UidConflict(uid, (*known.ports, port))
        assert claims is not None
        claims.add(connector, client)
        await self._enter_conflict(conflict, [])
        return conflict

    async def _settle_claims(self, claims: Claims) -> None:
        """Without discovery: once one board is left claiming the uid, manage it again."""
        winner = await claims.settle()
        uid = claims.uid
        del self._claims[uid], self._claim_tasks[uid]
        self._conflicts.pop(uid, None)
        assert winner.client is not None
        state = self._boards[uid]
        state.port = winner.client.transport.name
        self._start_session(state, winner.connector, first_client=winner.client)

    def _start_session(self, state: BoardState, connector: Connector, first_client: BoardClient | None = None) -> None:
        self._boards[state.uid] = state
        session = BoardSession(self._session_context, state, connector, first_client)
        self._sessions[state.uid] = session
        session.start()

    # --- discovery -------------------------------------------------------------------

    async def scan_once(self) -> None:
        """Probe candidate ports not held by a session; adopt new boards, re-home moved ones."""
        candidates = await asyncio.to_thread(find_candidates, self.config)
        held = {_port_key(s.state.port) for s in self._sessions.values() if s.client is not None}
        now = time.monotonic()
        todo = [c for c in candidates if _port_key(c.port) not in held and self._probe_after.get(c.port, 0) <= now]
        results = await asyncio.gather(*(probe(c, self.config) for c in todo))
        self.last_scan = list(results)
        live = {uid: s.state.port for uid, s in self._sessions.items() if s.client is not None}
        conflicts = flag_conflicts(self.last_scan, live)
        for uid, conflict in conflicts.items():
            if uid in self._sessions or any(self._selected(r) for r in results if r.uid == uid):
                await self._enter_conflict(conflict, results)
        self._leave_conflicts(results, conflicts)
        for result in results:
            port = result.candidate.port
            if result.status in ("busy", "conflict") or result.uid in self._conflicts:
                continue  # held for a moment (maybe by one of our sessions), or ambiguous: look again next scan
            if result.status != "ok" or result.uid is None:
                self._probe_after[port] = now + PROBE_BACKOFF_S  # not a fleet board, or not answering
                continue
            session = self._sessions.get(result.uid)
            if session is not None:
                if session.client is None:
                    session.rehome(result.candidate)
                continue
            if not self._selected(result):
                self._probe_after[port] = now + PROBE_BACKOFF_S
                continue
            self._probe_after.pop(port, None)
            state = self._boards.get(result.uid) or BoardState(name=result.name, uid=result.uid, port=port,
                                                               tags=result.tags)  # fmt: skip
            state.port = port  # a conflict that ended keeps its row
            self._start_session(state, PortConnector(self.config, state, result.candidate))

    async def _enter_conflict(self, conflict: UidConflict, results: list[ScanResult]) -> None:
        """One uid answers on several ports: stop treating any of them as that board."""
        uid = conflict.uid
        known = self._conflicts.get(uid)
        if known is not None and set(known.ports) == set(conflict.ports):
            return  # already said, each rescan would only repeat it
        session = self._sessions.pop(uid, None)
        if session is not None:
            await session.stop()  # its events may have come from either board
        state = self._boards.get(uid)
        if state is None:
            first = next(r for r in results if r.uid == uid)
            state = self._boards[uid] = BoardState(name=first.name, uid=uid, port=conflict.ports[0], tags=first.tags)
        self._conflicts[uid] = conflict
        state.state = "conflict"
        self.publish(state.state_event(time.time(), reason=str(conflict)))

    def _leave_conflicts(self, results: list[ScanResult], ongoing: dict[str, UidConflict]) -> None:
        """A conflicting uid that answered on one port only this scan (no port of the conflict
        busy, so unseen) is one board again: the adoption below manages it anew."""
        status = {r.port: r.status for r in results}
        for uid, conflict in list(self._conflicts.items()):
            if uid in ongoing or any(status.get(port) == "busy" for port in conflict.ports):
                continue
            if sum(1 for r in results if r.status == "ok" and r.uid == uid) == 1:
                del self._conflicts[uid]

    def _selected(self, result: ScanResult) -> bool:
        if self.target == "all":
            return True
        addr = _addr(result)
        for word in self.target.split(","):
            with contextlib.suppress(ConfigError):
                if word.strip() and select([addr], self.config, word.strip()):
                    return True
        return False

    def request_scan(self) -> None:
        """Rescan now rather than at the next interval (a board just dropped off)."""
        self._scan_now.set()

    async def _scan_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # not wait_for: see BoardSession._sleep
                async with asyncio.timeout(self.rescan_interval_s):
                    await self._scan_now.wait()
            self._scan_now.clear()
            try:
                await self.scan_once()
            except FleetError:
                pass  # a port that misbehaves during a scan is tried again next time

    # --- events ----------------------------------------------------------------------

    def publish(self, event: TelemetryEvent) -> None:
        """Apply an event to its board's state, then fan it out (sinks, then consumers)."""
        state = self._boards.get(event.uid)
        if state is not None:
            state.apply(event)
        self.hub.publish(event)

    def publish_stream(self, events: list[ResultEvent | PowerEvent]) -> None:
        """`publish` of a read's results and power samples of one board, in order, in one go."""
        state = self._boards.get(events[0].uid)
        if state is not None:
            state.apply_stream(events)
        self.hub.publish_batch(events)

    # --- recording -------------------------------------------------------------------

    async def start_recording(self, path: str | os.PathLike[str], *, force: bool = False) -> RecordingWriter:
        """Record every event from now on into `path` (see fleet.telemetry.recording)."""
        if self.recording is not None:
            raise RecordingError(f"already recording to {self.recording.path}")
        now = time.time()
        writer = await RecordingWriter.create(path, [s.state_event(now) for s in self._boards.values()], force=force)
        self.recording = writer
        self.hub.add_sink(writer.write)
        return writer

    async def stop_recording(self) -> RecordingWriter | None:
        """Finish the recording (trailer, fsync); returns it, or None if none was running."""
        writer, self.recording = self.recording, None
        if writer is None:
            return None
        self.hub.remove_sink(writer.write)
        await writer.close()
        return writer

    # --- deploy ----------------------------------------------------------------------

    async def deploy(
        self,
        model_path: str | os.PathLike[str],
        target: str = "all",
        strategy: Strategy | None = None,
        options: DeployOptions | None = None,
        *,
        concurrency: int | None = None,
        max_failures: int | None = None,
    ) -> list[BoardResult]:
        """Deploy a model to the boards `target` names, through the manager's own connections.

        Runs `fleet.deploy.rollout.run_rollout`; options and plan not given come from
        devices.toml's `[rollout]` (`fleet.deploy.compose`). Every DeployEvent is published as a
        `DeployNotice`. Streams stay as the manager set them (results are on during the
        health check). Raises ModelError for an unusable model file, ConfigError for a
        target that names no managed board, UidConflict for one whose uid answers on
        several ports.
        """
        model = load_model_file(model_path)
        if model.manifest is not None:
            self.catalog.add(model.manifest)
        options = options or deploy_options(self.config.rollout)
        chosen = select(list(self._boards.values()), self.config, target)
        for board in chosen:
            if (conflict := self._conflicts.get(board.uid)) is not None:  # neither may get a model meant for it
                raise UidConflict(conflict.uid, conflict.ports)
        health = StreamConfig(self.streams.streams | Stream.RESULTS, self.streams.log_level,
                              self.streams.result_interval_ms, self.streams.power_interval_ms, self.streams.top_k)  # fmt: skip
        targets = [
            DeployTarget(b.name, b.uid, b.port, self._deploy_connector(b.uid, options.reconnect_window_s),
                         owns_client=False, health_streams=health, after_streams=self.streams)
            for b in chosen
        ]  # fmt: skip
        plan = plan_rollout(self.config.rollout, targets, strategy=strategy, concurrency=concurrency,
                            max_failures=max_failures)  # fmt: skip
        return await run_rollout(plan, model, options, self._publish_deploy)

    def _publish_deploy(self, event: DeployEvent) -> None:
        self.publish(DeployNotice(board=event.board or "", uid=event.uid or "", host_time=event.time, event=event))
        if event.event in _SLOTS_CHANGED and event.uid:
            session = self._sessions.get(event.uid)
            if session is not None:
                session.refresh_info()  # so BoardState (and its StateEvent) shows what now runs

    def _deploy_connector(self, uid: str, wait_s: float) -> Connector:
        async def connect() -> BoardClient:
            return await self.wait_online(uid, wait_s)

        return connect

    def unreachable(self) -> FleetError | None:
        """After `start()`: an error saying why no board is online, or None if one is."""
        if any(b.state == "online" for b in self._boards.values()):
            return None
        reasons = [f"{b.name}: {b.reason}" for b in self._boards.values() if b.reason]
        # Ports the last scan could not use (busy, not answering) say why too.
        reasons += [r.error for r in self.last_scan if r.status not in ("ok", "conflict") and r.error]
        why = "; ".join(reasons)
        return FleetError(
            "no board could be reached" + (f" ({why})" if why else ""),
            hint="start `fleet sim`, plug a board in, or list boards in devices.toml",
        )

    async def wait_online(self, uid: str, timeout_s: float) -> BoardClient:
        """The board's live client, waiting up to `timeout_s` for it to (re)connect."""
        if (conflict := self._conflicts.get(uid)) is not None:
            raise UidConflict(conflict.uid, conflict.ports)
        session = self._sessions.get(uid)
        if session is None:
            raise FleetError(f"board {uid} is not managed by this fleet")
        deadline = time.monotonic() + timeout_s
        while True:
            client = session.live_client
            if client is not None:
                return client
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FleetTimeout(f"{session.state.name}: not online within {timeout_s:g} s ({session.state.state})")
            with contextlib.suppress(TimeoutError):  # not wait_for: see BoardSession._sleep
                async with asyncio.timeout(remaining):
                    await session.online.wait()


def _port_key(port: str) -> str:
    return port if "://" in port else os.path.realpath(port)


def _addr(result: ScanResult) -> _Addr:
    return _Addr(result.name, result.uid, result.candidate.port, result.tags)

