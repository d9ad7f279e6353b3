"""One board's connection life inside the fleet manager: connect, set up, fold, reconnect.

A `BoardSession` runs one board's loop: connect (through its `Connector`), check the uid,
read INFO, estimate the clock, turn the streams on, then fold every event the board sends
into telemetry in the client's reader (a listener) until the link drops; then reconnect
with backoff (`reconnecting`, `offline` after the context's `offline_after_s`). A reset
without a link loss (BOOT) sets the board up again on the same connection. Housekeeping
publishes link health and refreshes the clock estimate. The manager owns the sessions and
hands each one a `SessionContext`: its pacing, its streams, and where its events go.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fleet.cancel import cancel_and_wait
from fleet.client import BoardClient
from fleet.config import FleetConfig
from fleet.connect import Connector, connect_port
from fleet.discovery import Candidate
from fleet.errors import BoardRefused, FleetError, TransportError
from fleet.protocol import Boot, Capability, Info, InferResult, Message, Stream, StreamConfig
from fleet.protocol.stream import StreamRecord
from fleet.telemetry.events import ConnectionState, LinkEvent, PowerEvent, ResultEvent, TelemetryEvent
from fleet.telemetry.ingest import BoardIngest, board_resources, slot_views
from fleet.telemetry.labels import ModelCatalog
from fleet.telemetry.state import BoardState

CONNECT_TIMEOUT_S = 10.0
# Events held while a connection is set up (a board may still stream from an earlier
# session); beyond this they are dropped and counted in the link's `events_dropped`.
_EARLY_EVENTS = 16384
_STREAM_CAPS = ((Stream.RESULTS, Capability.RESULTS), (Stream.POWER, Capability.POWER), (Stream.LOG, Capability.LOG))


def streams_for(info: Info, wanted: StreamConfig) -> StreamConfig:
    """`wanted`, without the streams the board does not declare (PROTOCOL.md section 8)."""
    bits = Stream.NONE
    for stream, cap in _STREAM_CAPS:
        if wanted.streams & stream and info.capabilities & cap:
            bits |= stream
    return StreamConfig(int(bits), wanted.log_level, wanted.result_interval_ms, wanted.power_interval_ms, wanted.top_k)


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What a `BoardSession` takes from the fleet that owns it (one shared by all its sessions).

    The session never sees its owner: it reads these settings and calls these callbacks.
    """

    config: FleetConfig  # each board's power source (and, through PortConnector, its ports)
    catalog: ModelCatalog  # labels for the models boards run
    streams: StreamConfig  # turned on after every connect and reset (less what a board lacks)
    offline_after_s: float  # reconnecting this long makes a board `offline`
    rescan_interval_s: float  # an offline board, or one that refused the protocol, retries at this pace
    clock_sync_interval_s: float
    link_interval_s: float  # link health is published this often
    publish: Callable[[TelemetryEvent], None]  # every event the session produces
    request_scan: Callable[[], None]  # the link dropped: the board may be back on another port
    # A read's results and power samples of this board, in order (what `publish` does for each).
    publish_stream: Callable[[list[ResultEvent | PowerEvent]], None]


class BoardSession:
    """One board's connection life: connect, set up streams, fold its events, reconnect."""

    def __init__(self, context: SessionContext, state: BoardState, connector: Connector,
                 first_client: BoardClient | None) -> None:  # fmt: skip
        self.context = context
        self.state = state
        self.connector = connector
        self.client: BoardClient | None = None
        self.ingest = BoardIngest(state.name, state.uid, context.catalog,
                                  context.config.power_source_for(state.name, state.uid), state.model_labels)
        self.wake = asyncio.Event()
        self.online = asyncio.Event()
        self.settled = asyncio.Event()
        self._first_client = first_client
        self._task: asyncio.Task[None] | None = None
        self._aux: set[asyncio.Task[None]] = set()
        self._refresh: asyncio.Task[None] | None = None  # the INFO refresh under way, if one is

    @property
    def live_client(self) -> BoardClient | None:
        client = self.client
        if client is not None and client.connected and self.online.is_set():
            return client
        return None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"board {self.state.name}")

    async def stop(self) -> None:
        """Turn the board's streams off (leave it as we found it), disconnect, stop."""
        client = self.live_client
        if client is not None:
            with contextlib.suppress(FleetError, OSError):
                await client.request(StreamConfig(Stream.NONE), timeout=0.5, retries=0)
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._first_client is not None:
            await self._first_client.close()

    def rehome(self, candidate: Candidate) -> None:
        """Discovery found this board (by uid) on another port: try there now."""
        self.state.port = candidate.port
        if isinstance(self.connector, PortConnector):
            self.connector.baud = candidate.baud
        self.wake.set()

    # --- the connection loop ---------------------------------------------------------

    async def _run(self) -> None:
        lost_at = time.monotonic()
        delay = 0.1
        ever_online = False
        while True:
            client, self._first_client = self._first_client, None
            if client is None:
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT_S):  # not wait_for: see `_sleep`
                        client = await self.connector()
                    self._check_identity(client)
                except (FleetError, OSError, TimeoutError) as exc:
                    if client is not None:
                        await client.close()
                    self.settled.set()
                    waited = time.monotonic() - lost_at
                    offline = waited >= self.context.offline_after_s
                    state: ConnectionState = "offline" if offline else ("reconnecting" if ever_online else "connecting")
                    self._set_state(state, reason=str(exc))
                    await self._sleep(self.context.rescan_interval_s if offline else delay)
                    delay = min(delay * 2, 2.0)
                    continue
            if ever_online:
                self.state.reconnects += 1
            try:
                reason = await self._serve(client)
                ever_online = True
            finally:
                self.client = None
                self.online.clear()
                await client.close()
            self.settled.set()
            lost_at = time.monotonic()
            delay = 0.1
            self._set_state("reconnecting", reason=reason)
            if isinstance(await client.wait_closed(), BoardRefused):
                # A board that broke the protocol breaks it again at once: try again at the pace of
                # rescans, not in a tight loop of connections that each end in the same refusal.
                await self._sleep(self.context.rescan_interval_s)
            self.context.request_scan()  # it may come back on another port

    def _check_identity(self, client: BoardClient) -> None:
        assert client.info is not None
        uid = client.info.uid.hex()
        if uid != self.state.uid:
            raise TransportError(f"{self.state.name}: {client.transport.name} now answers as board {uid}")

    async def _sleep(self, seconds: float) -> None:
        self.wake.clear()
        # Not asyncio.wait_for: on 3.11 it drops a cancellation that comes in the step the
        # wake-up does, and a session stopped then would run on (stop() waiting forever).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.wake.wait()

    async def _serve(self, client: BoardClient) -> str:
        """Set up and read one connection until it drops; returns why it dropped."""
        self.client = client
        # Events wait in `early` until the clock is estimated and the streams are on; then they
        # are folded in the client's reader as each is decoded, with no queue between.
        early: list[Message] = []

        def hold(msg: Message) -> None:
            if len(early) < _EARLY_EVENTS:
                early.append(msg)
            else:
                client.stats.events_dropped += 1

        remove = client.add_listener(hold)
        try:
            boots = client.boots
            try:
                await self._setup(client)
            except FleetError:
                if not client.connected or client.boots == boots:
                    raise
                # The board reset during setup: its BOOT, among the early events, sets it up again.
            remove()
            remove_listener = client.add_listener(functools.partial(self._on_message, client))  # no Python frame of its own
            remove_sink = client.add_stream_sink(functools.partial(self._on_stream, client))

            def remove() -> None:
                remove_listener()
                remove_sink()

            for msg in early:
                self._on_message(client, msg)
            self.settled.set()
            self._spawn(self._housekeeping(client))
            return str(await client.wait_closed())
        except FleetError as exc:  # a vanished port, or a device refusing STREAM_CONFIG: try again
            return str(exc)
        finally:
            remove()
            for task in list(self._aux):
                task.cancel()
            await asyncio.gather(*self._aux, return_exceptions=True)
            self._aux.clear()

    async def _setup(self, client: BoardClient, *, fresh_info: bool = True) -> None:
        """After a connect or a reset: read INFO, estimate the clock, turn streams on."""
        # connect() has just read INFO; after a reset it may have changed (a test model reverts).
        info = client.info if fresh_info and client.info is not None else await client.hello()
        self.ingest.set_info(info)
        self.ingest.clock.update(await client.sync_clock())
        await client.request(streams_for(info, self.context.streams))
        self._set_state("online", info=info)

    def refresh_info(self) -> None:
        """Read INFO again in the background (the slots changed) and publish the new state."""
        client = self.live_client
        # One at a time: a task, not a flag the refresh sets, because several reads can ask
        # before a new task first runs.
        if client is not None and (self._refresh is None or self._refresh.done()):
            self._refresh = self._spawn(self._refresh_info(client))

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._aux.add(task)
        task.add_done_callback(self._aux.discard)
        return task

    def _on_message(self, client: BoardClient, msg: Message) -> None:
        event = self.ingest.convert(msg)
        if event is None:
            return
        self.context.publish(event)
        kind = type(msg)
        if kind is Boot:
            # The board reset: streams are off, its clock restarted, a test model reverted.
            self.state.resets += 1
            self.ingest.clock.invalidate()
            self._spawn(self._after_reset(client))
        elif kind is InferResult and self.ingest.unknown_prefix is not None:
            self.refresh_info()

    def _on_stream(self, client: BoardClient, records: list[StreamRecord]) -> None:
        """A read's results and power samples: what `_on_message` does for each, in one go."""
        events: list[ResultEvent | PowerEvent] = []
        try:
            results = self.ingest.stream(records, events)
        finally:
            if events:  # the ones before an output fleet cannot read, too (as one by one)
                self.context.publish_stream(events)
        if results and self.ingest.unknown_prefix is not None:
            self.refresh_info()

    async def _after_reset(self, client: BoardClient) -> None:
        boots = client.boots
        try:
            await self._setup(client, fresh_info=False)
        except FleetError:
            if client.boots == boots:  # another reset schedules its own setup; anything else is a dead link
                await client.close()  # the reader sees the link end and reconnects

    async def _refresh_info(self, client: BoardClient) -> None:
        """Results name a model INFO did not list (a deploy activated it): read INFO again."""
        try:
            info = await client.hello()
            self.ingest.set_info(info)
            self._set_state(self.state.state, info=info)
        except FleetError:
            pass  # the link is failing; the reader will notice

    async def _housekeeping(self, client: BoardClient) -> None:
        """Link health once a `link_interval_s`; the clock estimate every `clock_sync_interval_s`."""
        context = self.context
        last_sync = time.monotonic()
        while True:
            await asyncio.sleep(context.link_interval_s)
            self._publish_link(client)
            if time.monotonic() - last_sync >= context.clock_sync_interval_s:
                last_sync = time.monotonic()
                try:
                    self.ingest.clock.update(await client.sync_clock(samples=3))
                except FleetError:
                    await client.close()  # no answer to PING: the link is dead, reconnect
                    return

    def _publish_link(self, client: BoardClient) -> None:
        s = client.stats
        estimate = self.ingest.clock.estimate
        self.context.publish(LinkEvent(
            board=self.state.name, uid=self.state.uid, host_time=time.time(), frames_in=s.frames_in,
            frames_out=s.frames_out, bad_crc=s.bad_crc, malformed=s.malformed, too_long=s.too_long,
            timeouts=s.timeouts, retries=s.retries, late_responses=s.late_responses, events=s.events,
            events_lost=s.events_lost, events_dropped=s.events_dropped,
            clock_rtt_ms=round(estimate.rtt_s * 1000, 3) if estimate else None,
        ))  # fmt: skip

    def _set_state(self, state: ConnectionState, *, info: Info | None = None, reason: str | None = None) -> None:
        s = self.state
        if info is not None:
            s.profile, s.firmware = info.board_kind, info.firmware_version
            s.active, s.previous = slot_views(info)
            s.resources = board_resources(info)
        if state == s.state and info is None and reason == s.reason:
            return  # nothing new to tell
        s.state = state
        if self.client is not None and state == "online":
            s.port = self.client.transport.name
            self.online.set()
        self.context.publish(s.state_event(time.time(), reason))


class PortConnector:
    """Connects to the board's current port; discovery re-homes it when the board moves."""

    def __init__(self, config: FleetConfig, state: BoardState, candidate: Candidate) -> None:
        self.config = config
        self.state = state
        self.baud = candidate.baud

    async def __call__(self) -> BoardClient:
        return await connect_port(self.state.port, self.baud, self.config, self.state.name)
