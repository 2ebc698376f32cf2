"""The play loop: one thread per playing page, that stops by itself.

Each frame advances the app model by ``minutes_per_frame`` simulated minutes, then calls
``on_frame`` (the page re-renders in this thread, so a frame is drawn before the next step:
no pile-up of renders), then sleeps what is left of the frame interval, never less than
``MIN_GAP_S``. The interval has a floor (``MIN_INTERVAL_MS``). The loop ends on pause, at the
end of the run, on any error (kept in ``error`` for the page), and when the page is gone:
its Solara kernel closed, or no page connected to it for ``GONE_AFTER_S`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from sim.viz.appmodel import AppModel

log = logging.getLogger(__name__)

MIN_INTERVAL_MS = 80  # the floor: at most 12.5 frames per second are asked for
MIN_GAP_S = 0.02  # always some time between frames for the page's own messages
GONE_AFTER_S = 3.0  # a page disconnected this long is gone (a reconnect takes less)
SPEEDS_MIN_PER_S = (2, 4, 10, 30, 60, 120, 240, 600)  # simulated minutes per second offered
#: The default: a unit at 60 km/h (the fastest streets of every shipped district, Wuhan's
#: too) moves 33 m between two frames painted at 60 per second, under the page's 45 m bound
#: (streetmap.js STEP_MAX_M); a busy evening's four hours play in two minutes.
DEFAULT_SPEED = 2
STEP_MIN = 10  # a press of Step advances at least this many simulated minutes
#: Environment variable: how many pages may play at once (``run_sim.py viz --max-playing``).
MAX_PLAYING_ENV = "PATROL_VIZ_MAX_PLAYING"
PLAYING_PER_CORE = 2  # the default limit per core (see README: how many sessions a machine holds)
_playing: set[Player] = set()
_playing_lock = threading.Lock()


def max_playing() -> int:
    """Pages that may play at once on this server (further Plays are told it is busy)."""
    value = os.environ.get(MAX_PLAYING_ENV, "")
    return int(value) if value.isdigit() else PLAYING_PER_CORE * (os.cpu_count() or 1)


def playing_now() -> int:
    """Pages playing now on this server."""
    with _playing_lock:
        return len(_playing)


def frame_interval_ms(speed_min_per_s: float, frames_per_s: float) -> float:
    """Milliseconds between frames: the floor, and a whole minute per frame at slow speeds."""
    return max(1000 / max(frames_per_s, 1), MIN_INTERVAL_MS, 1000 / max(speed_min_per_s, 1e-9))


def minutes_per_frame(speed_min_per_s: float, interval_ms: float) -> int:
    """Whole simulated minutes per frame for a speed and a frame interval (at least 1)."""
    return max(1, round(speed_min_per_s * max(interval_ms, MIN_INTERVAL_MS) / 1000))


class Player:
    """Plays one app model in a thread; ``stop()`` or the page going away ends it."""

    def __init__(
        self,
        model: AppModel,
        on_frame: Callable[[], None],
        on_stop: Callable[[str], None],
        minutes: Callable[[], int],
        interval_ms: Callable[[], float],
        page_alive: Callable[[], bool] = lambda: True,
        context: object | None = None,
    ):
        self.model = model
        self.on_frame, self.on_stop = on_frame, on_stop
        self.minutes, self.interval_ms, self.page_alive = minutes, interval_ms, page_alive
        self.context = context  # the Solara kernel the page's state lives in, if any
        self.error: str | None = None
        self.frame_times: deque[float] = deque(maxlen=30)
        self._stop = threading.Event()
        self._why = "paused"
        self.thread = threading.Thread(target=self._run, name="patrol-play", daemon=True)

    def start(self) -> bool:
        """Start playing; False (and nothing started) when the server is busy already."""
        with _playing_lock:
            if len(_playing) >= max_playing():
                log.warning("play refused: %d pages playing", len(_playing))
                return False
            _playing.add(self)
        log.warning("play loop started")
        self.thread.start()
        return True

    def stop(self, why: str = "paused") -> None:
        """Ask the loop to end (it ends within one frame); ``why`` goes to the log."""
        self._why = why
        self._stop.set()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self.thread.is_alive()

    def frames_per_s(self) -> float:
        """Frames per second over the last frames (0 before two frames)."""
        times = list(self.frame_times)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def _run(self) -> None:
        reason = "paused"
        try:
            with self.context or contextlib.nullcontext():
                reason = self._loop()
        except Exception as exc:  # the page shows it; the server log keeps the traceback
            log.exception("play loop failed")
            self.error = f"The simulation stopped: {exc}"
            reason = "error"
        finally:
            with _playing_lock:
                _playing.discard(self)
            log.warning("play loop stopped (%s)", reason)
            self._report_stop(reason)

    def _report_stop(self, reason: str) -> None:
        try:
            with self.context or contextlib.nullcontext():
                self.on_stop(reason)
        except Exception:  # the page may be gone already
            log.debug("on_stop failed", exc_info=True)

    def _loop(self) -> str:
        while not self._stop.is_set():
            started = time.monotonic()
            if not self.page_alive():
                return "page gone"
            finished = self.model.advance(self.minutes())
            self.frame_times.append(time.monotonic())
            if self._stop.is_set():
                return self._why
            self.on_frame()
            if finished:
                return "end of run"
            spent = time.monotonic() - started
            interval_s = max(self.interval_ms(), MIN_INTERVAL_MS) / 1000
            self._stop.wait(max(interval_s - spent, MIN_GAP_S))
        return self._why


def current_kernel() -> object | None:
    """The Solara kernel (one per page) of the calling thread, or None outside a server."""
    from solara.server import kernel_context

    if not kernel_context.has_current_context():
        return None
    return kernel_context.get_current_context()


def kernel_alive_check(context) -> Callable[[], bool]:
    """A check that the page of a Solara kernel is still there (always True without one)."""
    if context is None:
        return lambda: True
    gone_since: list[float] = []

    def alive() -> bool:
        if context.closed_event.is_set():
            return False
        statuses = {getattr(s, "value", s) for s in context.page_status.values()}
        if "connected" in statuses:
            gone_since.clear()
            return True
        if statuses and statuses <= {"closed"}:
            return False
        gone_since[:1] = gone_since[:1] or [time.monotonic()]
        return time.monotonic() - gone_since[0] < GONE_AFTER_S

    return alive
