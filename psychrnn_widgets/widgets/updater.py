"""The one throttled updater that moves training data into widgets, and the event buffer.

Training callbacks run in the trainer's thread and must stay cheap, so they only append to an
:class:`EventBuffer` under a lock. A :class:`ThrottledUpdater` thread wakes a few times a second,
runs its jobs, and each job reads what the buffer contains and sets widget traits and mark data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["EventBuffer", "ThrottledUpdater"]

logger = logging.getLogger(__name__)


class EventBuffer:
    """Thread-safe list of training events; the trainer appends, the updater drains."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Any] = []
        self.received = 0

    def append(self, event: Any) -> None:
        """Store ``event``; safe to call from the training thread."""
        with self._lock:
            self._events.append(event)
            self.received += 1

    def drain(self) -> list[Any]:
        """Return every stored event, oldest first, and empty the buffer."""
        with self._lock:
            events, self._events = self._events, []
        return events


class ThrottledUpdater:
    """A daemon thread that runs its jobs every ``interval`` seconds.

    A job is a callable that returns True when it changed something on screen; the updater
    counts those ticks in ``updates`` so the refresh rate can be measured. A job that raises is
    logged (once per distinct message) and the others still run.

    Parameters
    ----------
    interval
        Seconds between ticks, default 0.2 (five updates a second).
    on_error
        Called with a short message the first time a job fails with a given error.
    """

    def __init__(self, interval: float = 0.2,
                 on_error: Callable[[str], None] | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive (got interval={interval} s)")
        self.interval = interval
        self.on_error = on_error
        self._jobs: list[Callable[[], bool]] = []
        # Re-entrant, because owners hold it around changes that end with a tick of their own.
        self._tick_lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._logged: set[str] = set()
        self.updates = 0
        self.ticks = 0
        # Time spent in ticks: wall clock (an upper bound of the cost, since it includes waiting
        # for the CPU and TensorFlow's own threads) and CPU time of the updater thread alone.
        self.busy_seconds = 0.0
        self.cpu_seconds = 0.0

    def add_job(self, job: Callable[[], bool]) -> None:
        """Run ``job`` on every tick, after the jobs added before it."""
        self._jobs.append(job)

    @property
    def lock(self) -> threading.RLock:
        """Lock held during a tick; hold it to change what the jobs read."""
        return self._tick_lock

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread, unless it is already running."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="prw-updater", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread after its current tick."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def tick(self) -> bool:
        """Run every job once, in the calling thread; return whether any changed something."""
        changed = False
        with self._tick_lock:
            started = time.thread_time()
            started_wall = time.perf_counter()
            self.ticks += 1
            for job in self._jobs:
                try:
                    changed = bool(job()) or changed
                except Exception as error:  # noqa: BLE001 - one broken chart must not stop the rest
                    key = f"{getattr(job, '__qualname__', job)}: {error}"
                    if key not in self._logged:
                        self._logged.add(key)
                        logger.error("widget update %s failed", key, exc_info=True)
                        self._report(f"Chart update failed: {type(error).__name__}: {error}")
            if changed:
                self.updates += 1
            self.cpu_seconds += time.thread_time() - started
            self.busy_seconds += time.perf_counter() - started_wall
        return changed

    def _report(self, message: str) -> None:
        if self.on_error is None:
            return
        try:
            self.on_error(message)
        except Exception:  # noqa: BLE001 - the updater thread must keep running
            logger.error("could not report %r", message, exc_info=True)

    def _loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_tick += self.interval
            delay = next_tick - time.monotonic()
            if delay < 0:
                # A slow tick: start counting again from now instead of bursting to catch up.
                next_tick = time.monotonic()
                delay = 0.0
            self._stop.wait(delay)
