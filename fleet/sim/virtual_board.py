"""A virtual board on a byte pipe: the engine, the wire model and fault injection, on asyncio.

`VirtualBoard` connects one `BoardEngine` to a `Transport` opened by a port factory (a new
PTY, or an in-memory pipe). Host-to-board bytes are handed to the engine only once they
have crossed the line at the configured baud; board-to-host frames leave after the
device turnaround and are paced the same way. Both directions run on timers per batch
of bytes (never a sleep per byte), so tens of boards share a core comfortably.

Faults (see `fleet.sim.faults`): line noise on every byte; unrequested resets
(WATCHDOG boots); and unplugs, which close the port (the host sees it vanish), power the
board off, and after `reconnect_after` plug it back on a new port with the same uid.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.cancel import cancel_and_wait
from fleet.errors import PortVanished
from fleet.protocol import BootReason
from fleet.sim.engine import BoardEngine
from fleet.sim.faults import FaultSpec
from fleet.sim.model_lifecycle import PendingWork
from fleet.sim.wire import LineNoise, LinePacer
from fleet.transport.base import Transport

log = logging.getLogger(__name__)

# Frames whose last byte is due within this window leave in one write.
TX_BATCH_S = 0.002
# Output the host is not reading piles up to this many bytes, then new output is dropped.
TX_QUEUE_LIMIT = 64 * 1024

PortFactory = Callable[[], Transport]


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """The board's serial link: line rate, response turnaround, transmit buffer, faults."""

    baud: int | None = 115_200  # None: no pacing (fast in-process tests)
    turnaround_us: int = 1000
    tx_buffer: int = 512  # bytes the board's UART driver can hold before a write blocks
    faults: FaultSpec = field(default_factory=FaultSpec)


@dataclass(slots=True)
class PortStats:
    """What happened at a virtual board's port (not `fleet.client.LinkStats`, the host's view
    of a link): bytes each way, output the host did not read, unplugs and resets."""

    rx_bytes: int = 0
    tx_bytes: int = 0
    tx_dropped: int = 0  # bytes lost because the host did not read
    unplugs: int = 0
    resets: int = 0


class VirtualBoard:
    """One running virtual board. `start()`, talk to `port`, `stop()`."""

    def __init__(
        self,
        engine: BoardEngine,
        open_port: PortFactory,
        link: LinkConfig | None = None,
        *,
        seed: int | str = 0,
        on_port_change: Callable[[VirtualBoard], None] | None = None,
    ) -> None:
        self.engine = engine
        self.link = link or LinkConfig()
        self.stats = PortStats()
        self._open_port = open_port
        self._port_listeners = [on_port_change] if on_port_change is not None else []
        faults = self.link.faults
        self._rx_noise = LineNoise(faults.ber, faults.drop, random.Random(f"{seed}:rx"))
        self._tx_noise = LineNoise(faults.ber, faults.drop, random.Random(f"{seed}:tx"))
        self._fault_rng = random.Random(f"{seed}:faults")
        self._rx_pacer = LinePacer(self.link.baud)
        self._tx_pacer = LinePacer(self.link.baud)
        self.transport: Transport | None = None
        self._gen = 0  # bumps at every power loss: callbacks of an older generation are void
        self._tasks: list[asyncio.Task] = []
        self._fault_tasks: list[asyncio.Task] = []
        self._tx_sched: deque[tuple[float, bytes]] = deque()
        self._tx_timer: asyncio.TimerHandle | None = None
        self._tick_timer: asyncio.TimerHandle | None = None
        self._write_q: deque[bytes] = deque()
        self._write_q_bytes = 0
        self._write_ready = asyncio.Event()
        self._work_task: asyncio.Task | None = None
        self._stopped = False

    @property
    def uid(self) -> str:
        return self.engine.config.uid.hex()

    @property
    def profile(self) -> str:
        return self.engine.profile.name

    @property
    def port(self) -> str | None:
        """Where the host reaches the board now (None while unplugged)."""
        return self.transport.name if self.transport is not None else None

    def add_port_listener(self, listener: Callable[[VirtualBoard], None]) -> None:
        """Call `listener(board)` whenever the board's port appears or vanishes."""
        self._port_listeners.append(listener)

    async def start(self) -> None:
        """Plug the board in and start the fault schedule."""
        await self.plug()
        faults = self.link.faults
        if faults.reboot_every is not None:
            self._fault_tasks.append(asyncio.create_task(self._reset_faults(faults.reboot_every)))
        if faults.disconnect_every is not None:
            self._fault_tasks.append(asyncio.create_task(self._unplug_faults(faults)))

    async def stop(self) -> None:
        """Unplug for good."""
        self._stopped = True
        tasks, self._fault_tasks = self._fault_tasks, []
        await cancel_and_wait(*tasks)
        await self.unplug()

    async def plug(self) -> None:
        """Connect to a new port and power on (POWER_ON boot)."""
        if self.transport is not None:
            return
        self._gen += 1
        self._rx_pacer.reset()
        self._tx_pacer.reset()
        self.transport = self._open_port()
        gen = self._gen
        self._tasks = [asyncio.create_task(self._rx_loop(gen)), asyncio.create_task(self._writer(gen))]
        self._send(self.engine.boot(BootReason.POWER_ON), self._now())
        self._arm_tick()
        self._notify()

    async def unplug(self) -> None:
        """Pull the cable: the port vanishes and the board loses power."""
        if self.transport is None:
            return
        self.stats.unplugs += 1
        self._power_off()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        transport, self.transport = self.transport, None
        await transport.close()
        await cancel_and_wait(*tasks, expected=(PortVanished,))
        self._notify()

    def reset(self, reason: BootReason = BootReason.WATCHDOG) -> None:
        """An unrequested reset: RAM (and the UART's buffer) lost, slots kept, BOOT sent."""
        if self.transport is None:
            return
        self.stats.resets += 1
        self._cancel_output()
        self._send(self.engine.boot(reason), self._now())
        self._arm_tick()

    # --- host -> board ---------------------------------------------------------------

    async def _rx_loop(self, gen: int) -> None:
        transport = self.transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                data = await transport.read()
            except PortVanished:
                return  # the host end closed (memory pipe) or we unplugged
            self.stats.rx_bytes += len(data)
            data = self._rx_noise.apply(data)
            if data:
                arrival = self._rx_pacer.finish(len(data), loop.time())
                loop.call_at(arrival, self._deliver, gen, data)

    def _deliver(self, gen: int, data: bytes) -> None:
        if gen != self._gen:
            return  # bytes still on the line when the board lost power
        frames = self.engine.receive(data)
        self._send(frames, self._now() + self.link.turnaround_us / 1e6)
        self._start_work()
        self._arm_tick()

    def _start_work(self) -> None:
        work = self.engine.pending_work
        if work is not None and self._work_task is None:
            self._work_task = asyncio.create_task(self._do_work(self._gen, work))

    async def _do_work(self, gen: int, work: PendingWork) -> None:
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, work.run)
        finally:
            if self._work_task is asyncio.current_task():
                self._work_task = None
        if gen != self._gen:
            return
        self._send(self.engine.finish_work(work, result), self._now() + self.link.turnaround_us / 1e6)
        self._start_work()
        self._arm_tick()

    # --- board -> host ---------------------------------------------------------------

    def _send(self, frames: list[bytes], not_before: float) -> None:
        for frame in frames:
            self._tx_sched.append((self._tx_pacer.finish(len(frame), not_before), frame))
        self._arm_tx()

    def _arm_tx(self) -> None:
        if self._tx_timer is None and self._tx_sched:
            self._tx_timer = asyncio.get_running_loop().call_at(self._tx_sched[0][0], self._tx_fire, self._gen)

    def _tx_fire(self, gen: int) -> None:
        self._tx_timer = None
        if gen != self._gen:
            return
        horizon = self._now() + TX_BATCH_S
        batch = []
        while self._tx_sched and self._tx_sched[0][0] <= horizon:
            batch.append(self._tx_sched.popleft()[1])
        data = self._tx_noise.apply(b"".join(batch))
        if self._write_q_bytes + len(data) > TX_QUEUE_LIMIT:
            self.stats.tx_dropped += len(data)
        elif data:
            self._write_q.append(data)
            self._write_q_bytes += len(data)
            self._write_ready.set()
        self._arm_tx()

    async def _writer(self, gen: int) -> None:
        transport = self.transport
        assert transport is not None
        while gen == self._gen:
            await self._write_ready.wait()
            self._write_ready.clear()
            while self._write_q and gen == self._gen:
                data = b"".join(self._write_q)
                self._write_q.clear()
                self._write_q_bytes = 0
                try:
                    await transport.write(data)
                except PortVanished:
                    return  # the host end closed; nothing reads what we send
                self.stats.tx_bytes += len(data)

    # --- streams and faults ----------------------------------------------------------

    def _arm_tick(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        deadline = self.engine.next_deadline_us()
        if deadline is None or self.transport is None:
            return
        when = self.engine.clock.host_time(deadline)
        if self._tx_room() <= 0:  # blocked on the UART: resume when half its buffer is free
            when = max(when, self._tx_pacer.drained_at(self.link.tx_buffer // 2))
        self._tick_timer = asyncio.get_running_loop().call_at(when, self._tick, self._gen, when)

    def _tick(self, gen: int, due: float) -> None:
        self._tick_timer = None
        if gen != self._gen:
            return
        self.engine.clock.ran_late(due)
        try:
            frames = self.engine.tick(self._tx_room())
        except Exception:
            # A board whose main loop faults is reset by its watchdog and says so in BOOT, as
            # the C firmware does on a TFLM abort. Going quiet instead would look like a
            # healthy board that stopped inferring, and fail health checks for the wrong reason.
            log.exception("virtual board %s: fault in its main loop; reset", self.uid)
            self.reset(BootReason.FAULT)
            return
        self._send(frames, self._now())
        self._arm_tick()

    def _tx_room(self) -> int:
        return max(0, self.link.tx_buffer - self._tx_pacer.backlog(self._now()))

    async def _reset_faults(self, mean_s: float) -> None:
        while True:
            await asyncio.sleep(self._fault_rng.expovariate(1 / mean_s) if mean_s > 0 else 0)
            log.info("virtual board %s: injected reset", self.uid)
            self.reset(BootReason.WATCHDOG)

    async def _unplug_faults(self, faults: FaultSpec) -> None:
        mean_s = faults.disconnect_every or 0.0
        while True:
            await asyncio.sleep(self._fault_rng.expovariate(1 / mean_s) if mean_s > 0 else 0)
            log.info("virtual board %s: injected unplug", self.uid)
            await self.unplug()
            if faults.reconnect_after is None:
                return
            await asyncio.sleep(faults.reconnect_after)
            if not self._stopped:
                await self.plug()

    # --- helpers ---------------------------------------------------------------------

    def _power_off(self) -> None:
        self._gen += 1
        self._cancel_output()
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        if self._work_task is not None:
            self._work_task.cancel()
            self._work_task = None

    def _cancel_output(self) -> None:
        self._tx_sched.clear()
        if self._tx_timer is not None:
            self._tx_timer.cancel()
            self._tx_timer = None
        self._tx_pacer.reset()
        self._write_q.clear()
        self._write_q_bytes = 0

    def _notify(self) -> None:
        for listener in self._port_listeners:
            listener(self)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
