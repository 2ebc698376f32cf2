"""Who may play and how fast: the admission rule, the cost per frame, the play loop's pacing."""

from __future__ import annotations

import time

import pytest

from sim.viz import admission
from sim.viz.admission import CPU_BUDGET_CORES, PRIOR_FRAME_CPU_S, FrameCost, refusal
from sim.viz.player import BEHIND, MAX_UNCONFIRMED, MIN_FPS, MIN_INTERVAL_MS, Player


class Counting:
    """A stand-in for the app model: each advance is a frame with the next ``seq``."""

    def __init__(self):
        self.seq = 0

    def advance(self, minutes: int) -> bool:
        self.seq += 1
        return False

    def frame_seq(self) -> int:
        return self.seq


def _play(model, confirmed, interval_ms: float = 0) -> tuple[Player, list[str], list[int]]:
    stops, frames = [], []
    player = Player(
        model, lambda: frames.append(model.seq), stops.append, minutes=lambda: 1,
        interval_ms=lambda: interval_ms, confirmed=confirmed,
    )  # fmt: skip
    assert player.start()
    return player, stops, frames


@pytest.mark.parametrize(
    ("asked", "new", "behind", "frame_s", "cap", "why"),
    [
        ([], 12.5, 0, 9.0, 1, None),  # the first page always plays
        ([2.0] * 3, 2.0, 0, 0.0, 3, "cap"),
        ([2.0, 2.0], 2.0, 1, 0.0, 9, "behind"),
        ([2.0, 2.0], 2.0, 0, 0.1, 9, None),  # 0.1 s x 6 frames/s = 0.6 core: within 0.8
        ([2.0, 2.0], 2.0, 0, 0.15, 9, "cpu"),  # 0.9 core
        ([2.0, 2.0], 12.5, 0, 0.05, 9, "cpu"),  # a fast page asks for more: 0.825 core
        ([2.0], 2.0, 0, CPU_BUDGET_CORES / 4, 9, None),  # exactly at the budget
    ],
)
def test_play_is_admitted_only_while_the_server_keeps_up(asked, new, behind, frame_s, cap, why):
    assert refusal(asked, new, behind, frame_s, cap) == why


def test_a_burst_of_plays_before_any_frame_is_let_in_by_the_prior_cost():
    # a class pressing Play together: nothing measured yet, the pages just let in count
    asked: list[float] = []
    while refusal(asked, 2.0, 0, PRIOR_FRAME_CPU_S, cap=99) is None:
        asked.append(2.0)
    assert len(asked) == int(CPU_BUDGET_CORES / (PRIOR_FRAME_CPU_S * 2.0) + 1e-9) == 8


def test_the_frame_cost_is_the_process_cpu_per_frame_sent_over_its_window(monkeypatch):
    clock = {"wall": 100.0, "cpu": 5.0}
    monkeypatch.setattr(admission.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(admission.time, "process_time", lambda: clock["cpu"])
    cost = FrameCost(window_s=4.0, prior_s=0.05)
    for _ in range(admission.MIN_FRAMES):  # too few frames in the window: the prior
        clock["wall"] += 0.5
        cost.frame_sent()
    assert cost.seconds() == 0.05
    for _ in range(10):  # 0.03 s of CPU a frame, at 2.5 frames/s (a starved server's pace)
        clock["wall"] += 0.4
        clock["cpu"] += 0.03
        cost.frame_sent()
    assert cost.seconds() == pytest.approx(0.03)
    clock["wall"] += 60.0  # idle a minute, then one frame: the last figure is kept
    clock["cpu"] += 1.0
    cost.frame_sent()
    assert cost.seconds() == pytest.approx(0.03) and cost.frames == 15


def test_a_page_that_confirms_no_frame_gets_few_ahead_then_is_stopped_and_told(monkeypatch):
    monkeypatch.setattr("sim.viz.player.BEHIND_WINDOW_S", 0.6)
    monkeypatch.setattr("sim.viz.player.BEHIND_GRACE_S", 0.6)
    monkeypatch.setattr("sim.viz.player._last_shed_s", [-1e9])
    model = Counting()
    player, stops, frames = _play(model, confirmed=lambda: 0)
    player.thread.join(5)
    assert stops == [BEHIND] and not player.running
    assert frames == list(range(1, MAX_UNCONFIRMED + 1))  # then it waited for the page


def test_a_page_that_confirms_late_is_sent_frames_as_fast_as_it_confirms(monkeypatch):
    monkeypatch.setattr("sim.viz.player.BEHIND_WINDOW_S", 60.0)
    model, confirmed = Counting(), [0]
    player, stops, frames = _play(model, confirmed=lambda: confirmed[0])
    for wait_s in (1.5, 0.5, 0.5):  # 80 ms a frame at most
        time.sleep(wait_s)
        assert len(frames) == confirmed[0] + MAX_UNCONFIRMED  # never further ahead
        confirmed[0] += 2
    player.stop()
    player.thread.join(5)
    assert stops == ["paused"]


def test_a_page_that_keeps_up_plays_on_at_its_rate(monkeypatch):
    monkeypatch.setattr("sim.viz.player.BEHIND_WINDOW_S", 0.5)
    monkeypatch.setattr("sim.viz.player.BEHIND_GRACE_S", 0.5)
    model = Counting()
    player, stops, frames = _play(model, confirmed=model.frame_seq, interval_ms=100)
    time.sleep(1.5)
    assert player.running and not player.behind() and player.unconfirmed() == 0
    player.stop()
    player.thread.join(5)
    assert stops == ["paused"] and len(frames) >= 5
    assert player.target_fps() == MIN_FPS < 1000 / MIN_INTERVAL_MS


def test_of_pages_behind_the_newest_is_stopped_first_one_a_window(monkeypatch):
    monkeypatch.setattr("sim.viz.player.BEHIND_WINDOW_S", 0.6)
    monkeypatch.setattr("sim.viz.player.BEHIND_GRACE_S", 0.6)
    # none judged before 2.1 s: by then both are behind (10 frames sent, none for 0.6 s)
    monkeypatch.setattr("sim.viz.player._last_shed_s", [time.monotonic() + 1.5])
    monkeypatch.setenv("PATROL_VIZ_MAX_PLAYING", "9")
    old, stops_old, _ = _play(Counting(), confirmed=lambda: 0)
    time.sleep(0.05)
    new, stops_new, _ = _play(Counting(), confirmed=lambda: 0)
    new.thread.join(5)
    assert stops_new == [BEHIND] and old.running  # the newest went first; the other waits
    old.thread.join(5)
    assert stops_old == [BEHIND]  # a window later, still behind: stopped too
