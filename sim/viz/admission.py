"""Who may play: Play is let through only while the server can send every playing page its frames.

``refusal`` is the rule, checked when a page presses Play; a page is told why when refused:

- the cap: at most ``max_playing()`` pages play at once (``run_sim.py viz --max-playing``);
- the server's CPU per frame (``FrameCost``: what the process spent per frame sent over the
  last few seconds) times the frames per second every playing page asks for, one more page's
  included, must stay within ``CPU_BUDGET_CORES``. The pages' frames are made by Python
  threads under one interpreter lock: one core's worth at most, however many cores the
  machine has. The cost is per frame, not the CPU used now: pages just let in count at once
  (a class pressing Play together), and a server starved by other processes does not read
  as idle. Pages loading meanwhile count in the cost too: while many load, fewer may play;
- no page playing is behind (sent fewer frames per second than it asked for, ``player``):
  then the server cannot keep up with the pages it has already.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque

#: Environment variable: how many pages may play at once (``run_sim.py viz --max-playing``).
MAX_PLAYING_ENV = "PATROL_VIZ_MAX_PLAYING"
PLAYING_PER_CORE = 8  # the cap per core; the CPU rule usually refuses before it
CPU_BUDGET_CORES = 0.8  # of the one core the interpreter lock lets the frames use
CPU_WINDOW_S = 4.0  # the cost per frame is measured over this many seconds
MIN_FRAMES = 4  # frames a window needs before its cost is taken
#: ASSUMPTION: the CPU a frame costs before any was measured (source: experiments/bench_viz.py
#: --clients on a 2-core 2.x GHz machine: 26 ms per frame with one panel, 45 ms with two,
#: the page loads and idle sessions included). The larger, rounded up: a class pressing Play
#: together before the first frame is let in at most 0.8 / (0.05 x 2) = 8 pages; plausible
#: range 0.02-0.1 s on a slower or faster machine, corrected within seconds of play.
PRIOR_FRAME_CPU_S = 0.05


def max_playing() -> int:
    """Pages that may play at once on this server (further Plays are told it is busy)."""
    value = os.environ.get(MAX_PLAYING_ENV, "")
    return int(value) if value.isdigit() else PLAYING_PER_CORE * (os.cpu_count() or 1)


class FrameCost:
    """CPU seconds this process spent per frame sent, over the last ``window_s`` of play.

    The whole process's CPU (the frames, the websocket, the pages' own messages) over the
    frames sent in the window; the last such figure is kept while nothing plays.
    """

    def __init__(self, window_s: float = CPU_WINDOW_S, prior_s: float = PRIOR_FRAME_CPU_S):
        self.window_s = window_s
        self.frames = 0  # frames sent by every play loop of the process so far
        self._last_s = prior_s
        self._samples: deque[tuple[float, float, int]] = deque()
        self._lock = threading.Lock()

    def frame_sent(self) -> None:
        """Count a frame sent and take a sample (each play loop calls it per frame)."""
        with self._lock:
            self.frames += 1
            now = time.monotonic(), time.process_time(), self.frames
            self._samples.append(now)
            while self._samples and now[0] - self._samples[0][0] > self.window_s:
                self._samples.popleft()
            (_, cpu0, frames0), (_, cpu1, frames1) = self._samples[0], self._samples[-1]
            if frames1 - frames0 >= MIN_FRAMES:
                self._last_s = (cpu1 - cpu0) / (frames1 - frames0)

    def seconds(self) -> float:
        """CPU seconds per frame: the last window's with enough frames, else the prior."""
        with self._lock:
            return self._last_s


def refusal(asked_fps: list[float], new_fps: float, behind: int, frame_cpu_s: float,
            cap: int) -> str | None:  # fmt: skip
    """Why one more page may not play now (None: it may): ``cap``, ``behind`` or ``cpu``.

    ``asked_fps``: the frames per second each page playing asks for; ``new_fps``: the new
    page's; ``behind``: pages playing that are behind; ``frame_cpu_s``: ``FrameCost``.
    """
    if not asked_fps:
        return None  # the first page always plays: there is nobody to protect
    if len(asked_fps) >= cap:
        return "cap"
    if behind:
        return "behind"
    if frame_cpu_s * (sum(asked_fps) + new_fps) > CPU_BUDGET_CORES:
        return "cpu"
    return None
