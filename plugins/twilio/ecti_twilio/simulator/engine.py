"""The simulator's engine: one thread, a command queue, virtual time.

Everything that happens on a simulated call runs as a *command* on the single engine thread,
in the order it was submitted; REST requests and scripted party actions only submit commands
and return. That keeps the simulation deterministic and means a REST request made by the
application while it is itself answering one of the simulator's webhooks never deadlocks.

Time is virtual: it stands still until a script calls :meth:`Engine.advance`, which fires the
due timers in order, letting the engine settle after each one.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

log = logging.getLogger(__name__)


class SimulatorError(Exception):
    """A scripted action cannot be carried out (unknown number, nothing ringing, …)."""


#: How long (real seconds) ``settle``/``advance`` wait at most for the webhooks in flight. A
#: ceiling, not a budget: the wait ends the moment the engine is idle. On a machine busy with a
#: second test suite one webhook took longer than the 5 s this used to be.
SETTLE_CEILING = 60.0


class SettleTimeout(SimulatorError, TimeoutError):
    """The engine did not become idle in time (a webhook is slow, or work keeps coming)."""


class EngineFailure(SimulatorError):
    """A command raised an unexpected exception: a bug in the simulator, reported to scripts."""


class VirtualClock:
    """Seconds since the simulator started, moved only by :meth:`Engine.advance`."""

    def __init__(self, epoch: datetime | None = None):
        self.epoch = (epoch or datetime.now(timezone.utc)).replace(microsecond=0)
        self.seconds = 0.0

    def now(self) -> datetime:
        """The current virtual wall-clock time (UTC)."""
        return self.epoch + timedelta(seconds=self.seconds)


class Timer:
    """A callback due at a virtual time; :meth:`cancel` makes it a no-op."""

    __slots__ = ("due", "seq", "fn", "args", "cancelled")

    def __init__(self, due: float, seq: int, fn: Callable, args: tuple):
        self.due, self.seq, self.fn, self.args, self.cancelled = due, seq, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "Timer") -> bool:
        return (self.due, self.seq) < (other.due, other.seq)


class Engine:
    """Runs submitted commands one at a time on a daemon thread."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self._cond = threading.Condition()
        self._commands: list = []
        self._busy = False
        self._stopped = False
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self.failures: list[BaseException] = []
        self._failures_reported = 0
        self._thread = threading.Thread(target=self._loop, name="twilio-sim-engine", daemon=True)
        self._thread.start()

    # --- commands ------------------------------------------------------------------------
    def submit(self, fn: Callable, *args) -> None:
        """Queue ``fn(*args)`` to run on the engine thread."""
        with self._cond:
            self._commands.append((fn, args))
            self._cond.notify_all()

    def on_engine_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._commands and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                fn, args = self._commands.pop(0)
                self._busy = True
            try:
                fn(*args)
            except Exception as exc:  # keep the engine alive; settle() reports it
                log.exception("simulator command %r failed", fn)
                self.failures.append(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def settle(self, timeout: float = SETTLE_CEILING) -> None:
        """Wait until no command is queued or running (webhooks in flight included).

        Raises :class:`SettleTimeout` after ``timeout`` real seconds, and
        :class:`EngineFailure` if a command crashed since the last call.
        Called on the engine thread itself (from a webhook handler that runs in-process and
        calls back into the simulator), it returns at once: the engine cannot wait for itself.
        """
        if not self.on_engine_thread():
            deadline = time.monotonic() + timeout
            with self._cond:
                while self._commands or self._busy:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise SettleTimeout(
                            f"simulator still busy after {timeout}s "
                            f"({len(self._commands)} command(s) queued)")
                    self._cond.wait(remaining)
        if len(self.failures) > self._failures_reported:
            failure = self.failures[self._failures_reported]
            self._failures_reported = len(self.failures)
            raise EngineFailure(f"simulator command failed: {failure!r}") from failure

    # --- virtual time ----------------------------------------------------------------------
    def call_later(self, delay: float, fn: Callable, *args) -> Timer:
        """Run ``fn(*args)`` as a command once virtual time has moved ``delay`` seconds on."""
        with self._cond:
            timer = Timer(self.clock.seconds + max(0.0, delay), next(self._seq), fn, args)
            heapq.heappush(self._timers, timer)
            return timer

    def advance(self, seconds: float, timeout: float = SETTLE_CEILING) -> None:
        """Move virtual time forward, firing every timer that falls due, in order."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self.clock.seconds + seconds
        while True:
            self.settle(timeout)
            with self._cond:
                while self._timers and self._timers[0].cancelled:
                    heapq.heappop(self._timers)
                if not self._timers or self._timers[0].due > target:
                    break
                timer = heapq.heappop(self._timers)
                self.clock.seconds = max(self.clock.seconds, timer.due)
                self._commands.append((timer.fn, timer.args))
                self._cond.notify_all()
        self.clock.seconds = target
        self.settle(timeout)
