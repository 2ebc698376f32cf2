"""The play loop: one thread per playing page, that stops by itself.

Each frame advances the app model by ``minutes_per_frame`` simulated minutes, then calls
``on_frame`` (the page re-renders in this thread, so a frame is drawn before the next step:
no pile-up of renders), then sleeps until the next frame is due, never less than
``MIN_GAP_S``: frames are due on a steady clock, so a late frame is made up (one at most).
The interval has a floor (``MIN_INTERVAL_MS``). The loop ends on pause, at the
end of the run, on any error (kept in ``error`` for the page), and when the page is gone:
its Solara kernel closed, or no page connected to it for ``GONE_AFTER_S`` seconds.

A page that confirms the frames its map took (``confirmed``: the last frame's ``seq``) is
never sent more than ``MAX_UNCONFIRMED`` frames ahead: the loop waits for it instead of
filling the websocket. A page sent fewer than ``MIN_FPS`` frames per second (or fewer than
it asked for, if less) over ``BEHIND_WINDOW_S`` is stopped (``BEHIND``) and told: a slow
server and a slow browser both show so, instead of a page silently starved. When several are
behind, the newest is stopped first, one a window, until the others keep up. Play is let
through by ``sim.viz.admission``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from sim.viz.admission import FrameCost, max_playing, refusal
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
MIN_FPS = 2.0  # every page playing gets this many frames per second, or is told
BEHIND_RATIO = 0.9  # under this share of its target over the window: behind
BEHIND_WINDOW_S = 5.0  # frames counted over this many seconds (after as many of play)
MAX_UNCONFIRMED = 10  # frames sent ahead of the page's last confirmed one (5 s at 2 a second)
BEHIND_GRACE_S = 10.0  # a page is judged only after this long of play (the start is slow)
BEHIND = "behind"  # the reason a loop stopped when its page fell behind
_playing: set[Player] = set()
_numbers = itertools.count(1)
_playing_lock = threading.Lock()
_cost = FrameCost()
_last_shed_s = [-1e9]  # when a page was last stopped for falling behind


def playing_now() -> int:
    """Pages playing now on this server."""
    with _playing_lock:
        return len(_playing)


def playing_figures() -> list[dict[str, float]]:
    """Per page playing now: frames sent to it and seconds it has played (for ``/debugz``)."""
    now = time.monotonic()
    with _playing_lock:
        players = list(_playing)
    return [
        {"id": p.number, "frames": p.frames_sent, "seconds": round(now - p.started_s, 3)}
        for p in players
    ]


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
        confirmed: Callable[[], int] | None = None,
    ):
        self.model = model
        self.on_frame, self.on_stop = on_frame, on_stop
        self.minutes, self.interval_ms, self.page_alive = minutes, interval_ms, page_alive
        self.context = context  # the Solara kernel the page's state lives in, if any
        self.error: str | None = None
        self.frame_times: deque[float] = deque(maxlen=30)
        self.frames_sent = 0  # frames whose re-render went out to the page (the websocket's)
        self.started_s = time.monotonic()
        self.number = next(_numbers)  # tells players apart in ``playing_figures``
        self.confirmed = confirmed  # the seq of the last frame the page's map took, if known
        self.sent_seqs: deque[int] = deque(maxlen=4 * MAX_UNCONFIRMED)
        self.refused: str | None = None  # why Play was refused (``admission.refusal``)
        self._stop = threading.Event()
        self._why = "paused"
        self.thread = threading.Thread(target=self._run, name="patrol-play", daemon=True)

    def start(self) -> bool:
        """Start playing; False (and nothing started, ``refused`` says why) when busy."""
        with _playing_lock:
            behind = sum(p.behind() for p in _playing)
            asked = [p.asked_fps() for p in _playing]
            self.refused = refusal(asked, self.asked_fps(), behind, _cost.seconds(), max_playing())
            if self.refused:
                log.warning("play refused (%s): %d pages playing", self.refused, len(_playing))
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

    def asked_fps(self) -> float:
        """The frames per second this page asks for (its interval, floored)."""
        return 1000 / max(self.interval_ms(), MIN_INTERVAL_MS)

    def target_fps(self) -> float:
        """The frames per second this page must get: ``MIN_FPS``, or what it asks if fewer."""
        return min(MIN_FPS, self.asked_fps())

    def behind(self) -> bool:
        """True when, over the last ``BEHIND_WINDOW_S`` of play, it got too few frames."""
        now = time.monotonic()
        if now - self.started_s < max(BEHIND_GRACE_S, BEHIND_WINDOW_S):
            return False
        recent = sum(t > now - BEHIND_WINDOW_S for t in list(self.frame_times))
        return recent / BEHIND_WINDOW_S < BEHIND_RATIO * self.target_fps()

    def unconfirmed(self) -> int:
        """Frames sent that the page's map has not confirmed (0 when it does not confirm)."""
        if self.confirmed is None:
            return 0
        last = self.confirmed()
        return sum(seq > last for seq in list(self.sent_seqs))

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
        self.started_s = due = time.monotonic()
        while not self._stop.is_set():
            waited = self._wait_for_page()
            if waited:
                return waited
            finished = self.model.advance(self.minutes())
            if self._stop.is_set():
                return self._why
            self.on_frame()
            self.frames_sent += 1
            self.frame_times.append(time.monotonic())
            self.sent_seqs.append(self.model.frame_seq())
            _cost.frame_sent()
            if finished:
                return "end of run"
            interval_s = max(self.interval_ms(), MIN_INTERVAL_MS) / 1000
            now = time.monotonic()
            due = max(due + interval_s, now - interval_s)  # on a steady clock, a frame owed
            self._stop.wait(max(due - now, MIN_GAP_S))
        return self._why

    def _shed(self) -> bool:
        """True when this page is behind, the newest of those behind, and none was shed lately.

        Pages are stopped one a window, until the others keep up.
        """
        if not self.behind():
            return False
        with _playing_lock:
            now = time.monotonic()
            if now - _last_shed_s[0] < BEHIND_WINDOW_S:
                return False
            newest = max((p for p in _playing if p.behind()), key=lambda p: p.started_s)
            if newest is not self and self in _playing:
                return False
            _last_shed_s[0] = now
        return True

    def _wait_for_page(self) -> str | None:
        """Wait while the page is too many frames behind; why to stop, if the loop must."""
        while True:
            if self._stop.is_set():
                return self._why
            if not self.page_alive():
                return "page gone"
            if self._shed():
                return BEHIND
            if self.unconfirmed() < MAX_UNCONFIRMED:
                return None
            self._stop.wait(MIN_GAP_S)


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
