"""Who may play: Play is let through only while the server can send every playing page its frames.

``refusal`` is the rule, checked when a page presses Play; a page is told why when refused:

- the cap: at most ``max_playing()`` pages play at once (``run_sim.py viz --max-playing``);
- the server's measured CPU (``CpuMeter``): the process's CPU over the last few seconds plus
  one more page's share (the mean of the pages playing) must stay within
  ``CPU_BUDGET_CORES``. The pages' frames are made by Python threads under one interpreter
  lock: one core's worth at most, however many cores the machine has;
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
CPU_WINDOW_S = 4.0  # the CPU is measured over this many seconds


def max_playing() -> int:
    """Pages that may play at once on this server (further Plays are told it is busy)."""
    value = os.environ.get(MAX_PLAYING_ENV, "")
    return int(value) if value.isdigit() else PLAYING_PER_CORE * (os.cpu_count() or 1)


class CpuMeter:
    """The CPU this process used (cores) over the last ``window_s``, from frequent samples."""

    def __init__(self, window_s: float = CPU_WINDOW_S):
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()

    def sample(self) -> None:
        """Take a sample (cheap: each play loop takes one per frame)."""
        now = time.monotonic(), time.process_time()
        with self._lock:
            self._samples.append(now)
            while len(self._samples) > 2 and now[0] - self._samples[1][0] >= self.window_s:
                self._samples.popleft()

    def cores(self) -> float:
        """CPU seconds per second over the window (0 before a second's worth of samples)."""
        self.sample()
        with self._lock:
            (wall0, cpu0), (wall1, cpu1) = self._samples[0], self._samples[-1]
        return (cpu1 - cpu0) / (wall1 - wall0) if wall1 - wall0 >= 1.0 else 0.0


def refusal(playing: int, behind: int, cpu_cores: float, cap: int) -> str | None:
    """Why one more page may not play now (None: it may): ``cap``, ``cpu`` or ``behind``."""
    if playing == 0:
        return None  # the first page always plays: there is nobody to protect
    if playing >= cap:
        return "cap"
    if behind:
        return "behind"
    if cpu_cores * (playing + 1) / playing > CPU_BUDGET_CORES:
        return "cpu"
    return None
