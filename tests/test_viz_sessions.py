"""Sessions beyond the server's capacity are told it is busy; the ones let in get their frames.

Played without a browser: ``experiments/viz_clients.py`` speaks the page's websocket protocol
(its cookie and origin, Solara's ``run``, a button's click, the map's ``seen`` for each frame).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the browser app needs the 'viz' extras")
pytest.importorskip("websockets.asyncio.client")

from viz_support import start_server

from sim.viz.admission import MAX_PLAYING_ENV

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from viz_clients import play_class

pytestmark = pytest.mark.timeout(300)

CAP = 2


@pytest.fixture(scope="module")
def server():
    served = start_server("server-clients.log", env={MAX_PLAYING_ENV: str(CAP)})
    yield served
    served.stop()


def test_a_session_beyond_the_cap_is_told_busy_and_the_admitted_get_frames(server):
    result = play_class(server.url, 3, seconds=4.0)
    assert result.loaded == 3
    assert sorted(result.answers) == ["busy", "playing", "playing"]
    busy = result.answers.index("busy")
    assert "2 pages are playing, its limit" in result.notices[busy]
    assert not any(result.told), result.details  # the two let in play on, not told busy
    assert all(frames >= 2 for frames in result.frames), result.details  # not timed: some
    # the one told busy was sent no frame: not even its map anew (a notice used to rebuild
    # the maps below it, and a new map counts as a frame)
    assert result.refused_frames == [0]
