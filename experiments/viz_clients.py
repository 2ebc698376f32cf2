"""Classroom sessions without browsers: each plays the app as a page does, over its websocket.

A ``Session`` loads the page over HTTP (the ``solara-session-id`` cookie), opens the Jupyter
kernel websocket with the page's ``Origin`` and cookie, and speaks what Solara's front end
speaks (captured from Chromium): ``kernel_info_request``, a ``solara.control`` comm whose
``run`` builds the page, the widgets' states (``comm_open``, ``update``), and the widgets'
events (``custom``: a button's ``click``, a map's ``seen``). It answers each new frame of
every map with ``seen(seq)`` at once, as ``streetmap.js`` does (the play loop paces on it):
a browser that paints instantly. ``play_class`` runs many at once in one event loop and
reports, per session, the answer to Play (``playing`` or ``busy``: the page's notice) and the
frames its first map received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from solara.server.kernel import deserialize_binary_message
from websockets.asyncio.client import connect

BUSY_PREFIXES = ("The server is busy", "服务器繁忙")  # the page's notices (en.toml, zh.toml)
COOKIE = "solara-session-id"
THEMES = {"light": {}, "dark": {}}
RETRY_AFTER_S = 5.0  # a session told busy presses Play again this long after
ANSWER_S = 2.0  # the page's answer to a Play comes within this (loaded server: seconds)


@dataclass
class Session:
    """One page's session: its widgets' states, and the frames its maps received."""

    base_url: str
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    kernel_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    models: dict[str, dict] = field(default_factory=dict)  # comm id -> widget state
    maps: list[str] = field(default_factory=list)  # the maps' comm ids, in order of opening
    frame_times: list[float] = field(default_factory=list)  # new frames of the first map
    last_seq: dict[str, int] = field(default_factory=dict)
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    _ws: object = None
    _control: str = ""

    async def open(self) -> None:
        """Load the page (its cookie), connect its kernel and ask Solara to run the app."""
        cookie = await asyncio.to_thread(_page_cookie, self.base_url)
        host = self.base_url.split("://", 1)[1].rstrip("/")
        url = (
            f"ws://{host}/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.client_id}"
        )
        self._ws = await connect(
            url, origin=self.base_url.rstrip("/"), max_size=None, open_timeout=120,
            additional_headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {},
        )  # fmt: skip
        await self._send("kernel_info_request", {})
        self._control = str(uuid.uuid4())
        await self._send("comm_open", {"comm_id": self._control, "target_name": "solara.control",
                                       "data": {}})  # fmt: skip
        run = {"path": "/", "dark": False, "themes": THEMES, "appName": None}
        await self._comm(self._control, {"method": "run", "args": run})

    @property
    def connected(self) -> bool:
        """True once the websocket opened."""
        return self._ws is not None

    async def listen(self) -> None:
        """Take the server's messages until the socket closes (run as a task)."""
        try:
            async for message in self._ws:
                msg = json.loads(message) if isinstance(message, str) else _binary(message)
                await self._take(msg)
        except Exception:  # a closed or broken socket ends the session
            pass
        finally:
            self.closed = True
            self.loaded.set()

    async def close(self) -> None:
        """Close the socket, as a closed tab does."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    async def click(self, label: str) -> bool:
        """Press the button showing ``label`` (False if the page has none)."""
        button = self.button(label)
        if button is None:
            return False
        await self._comm(button, {"method": "custom", "content": {"event": "click", "data": {}}})
        return True

    async def choose(self, css_class: str, value: str) -> bool:
        """Set the drop-down list with ``css_class`` to ``value`` (False if there is none)."""
        for comm_id, state in self.models.items():
            if state.get("_model_name") == "SelectModel" and css_class in state.get("class_", ""):
                state["v_model"] = value
                await self._comm(comm_id, {"method": "update", "state": {"v_model": value},
                                           "buffer_paths": []})  # fmt: skip
                return True
        return False

    def button(self, label: str) -> str | None:
        """The comm id of the button whose text is ``label``, if the page shows one."""
        for comm_id, state in self.models.items():
            if state.get("_model_name") == "BtnModel" and label in _texts(state):
                return comm_id
        return None

    def notice(self) -> str | None:
        """The page's busy notice, if it shows one."""
        for state in self.models.values():
            for text in _texts(state):
                if text.startswith(BUSY_PREFIXES):
                    return text
        return None

    def answer(self) -> str:
        """What the page shows: ``playing`` (a Pause button), ``busy`` (told so) or ``none``."""
        if self.button("Pause"):
            return "playing"
        return "busy" if self.notice() else "none"

    def frames_between(self, start_s: float, end_s: float) -> int:
        """New frames the first map received in ``[start_s, end_s)`` (``time.monotonic``)."""
        return sum(start_s <= t < end_s for t in self.frame_times)

    async def _take(self, msg: dict) -> None:
        kind, content = msg.get("msg_type") or msg["header"]["msg_type"], msg.get("content", {})
        comm_id = content.get("comm_id")
        if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
            self.models[comm_id] = dict(content["data"].get("state", {}))
            await self._opened(comm_id)
        elif kind == "comm_msg" and comm_id == self._control:
            if content["data"].get("method") == "finished":
                self.loaded.set()
        elif kind == "comm_msg" and comm_id in self.models:
            if content["data"].get("method") == "update":
                self.models[comm_id].update(content["data"].get("state", {}))
                await self._frame(comm_id)
        elif kind == "comm_close":
            self.models.pop(comm_id, None)
            if comm_id in self.maps:
                self.maps.remove(comm_id)

    async def _opened(self, comm_id: str) -> None:
        state = self.models[comm_id]
        if "dark_effective" in state:  # the theme: the front end says it is light
            await self._comm(comm_id, {"method": "update", "state": {"dark_effective": False},
                                       "buffer_paths": []})  # fmt: skip
        if "motion" in state and "streets" in state:
            self.maps.append(comm_id)
            await self._frame(comm_id)

    async def _frame(self, comm_id: str) -> None:
        """A map's new frame: confirm it (``seen``) and count it on the first map."""
        if comm_id not in self.maps:
            return
        seq = self.models[comm_id].get("motion", {}).get("seq")
        if seq is None or seq == self.last_seq.get(comm_id):
            return
        self.last_seq[comm_id] = seq
        if comm_id == self.maps[0]:
            self.frame_times.append(time.monotonic())
        await self._comm(comm_id, {"method": "custom", "content": {"event": "seen", "data": seq}})

    async def _comm(self, comm_id: str, data: dict) -> None:
        await self._send("comm_msg", {"comm_id": comm_id, "data": data})

    async def _send(self, kind: str, content: dict) -> None:
        header = {
            "date": datetime.now(UTC).isoformat(), "msg_id": str(uuid.uuid4()),
            "msg_type": kind, "session": self.client_id, "username": "", "version": "5.2",
        }  # fmt: skip
        msg = {"buffers": [], "channel": "shell", "content": content, "header": header,
               "metadata": {}, "parent_header": {}}  # fmt: skip
        with contextlib.suppress(Exception):  # a closed socket: the listener ends the session
            await self._ws.send(json.dumps(msg))


def _page_cookie(base_url: str) -> str | None:
    """Load the page as a browser does; the session cookie it sets."""
    with urllib.request.urlopen(base_url, timeout=120) as answer:
        answer.read()
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == COOKIE:
                return rest.split(";", 1)[0]
    return None


def _binary(message: bytes) -> dict:
    return deserialize_binary_message(message)


def _texts(state: dict) -> list[str]:
    """The plain texts among a widget's children (a button's label, an alert's message)."""
    children = state.get("children")
    return [c for c in children if isinstance(c, str)] if isinstance(children, list) else []


@dataclass
class ClassResult:
    """What a class of sessions saw: per session its answer and frames per second."""

    loaded: int
    load_s: float
    answers: list[str]  # per loaded session, after Play: playing, busy or none
    notices: list[str]  # per loaded session after Play: its busy notice, or ""
    refused_frames: list[int]  # per session answering ``busy``: frames received since Play
    frames: list[int]  # per session answering ``playing``: frames received in the window
    fps: list[float]  # the same per second
    told: list[bool]  # per session answering ``playing``: told busy during the window
    details: list[str] = field(default_factory=list)  # per session playing: what it saw

    def starved(self, min_fps: float) -> int:
        """Sessions that played under ``min_fps`` and were not told so."""
        return sum(f < min_fps and not t for f, t in zip(self.fps, self.told, strict=True))


async def _open_all(url: str, count: int, timeout_s: float) -> tuple[list, list, list, float]:
    started = time.monotonic()
    sessions = [Session(url) for _ in range(count)]
    await asyncio.gather(*(s.open() for s in sessions), return_exceptions=True)
    tasks = [asyncio.create_task(s.listen()) for s in sessions if s.connected]

    async def ready(s: Session) -> bool:
        await s.loaded.wait()
        while not s.closed and (s.button("Play") is None or not s.maps):
            await asyncio.sleep(0.2)
        return not s.closed

    waits = [asyncio.wait_for(ready(s), timeout_s) for s in sessions if s.connected]
    done = await asyncio.gather(*waits, return_exceptions=True)
    live = [s for s in sessions if s.connected]
    loaded = [s for s, ok in zip(live, done, strict=True) if ok is True]
    return sessions, tasks, loaded, time.monotonic() - started


async def _play_class(
    url: str, count: int, seconds: float, compare: tuple[str, str] | None, retries: int, on_window
) -> ClassResult:
    sessions, tasks, loaded, load_s = await _open_all(url, count, timeout_s=180)
    try:
        if compare:
            for s in loaded:
                await s.choose("patrol-scenario_name", compare[0])
                await s.choose("patrol-compare", compare[1])
                await asyncio.sleep(0.1)
                await s.click("Reset")
            await _until(lambda: all(len(s.maps) == 2 for s in loaded), 180)
        pressed = time.monotonic()
        for s in loaded:
            await s.click("Play")
        await _until(lambda: all(s.answer() != "none" for s in loaded), 60)
        for _ in range(retries):  # those told busy press Play again a little later
            await asyncio.sleep(RETRY_AFTER_S)
            for s in loaded:
                if s.answer() == "busy":
                    await s.click("Play")
            await asyncio.sleep(ANSWER_S)
        answers = [s.answer() for s in loaded]
        notices = [s.notice() or "" for s in loaded]
        playing = [s for s, a in zip(loaded, answers, strict=True) if a == "playing"]
        await asyncio.sleep(3.0)  # every loop under way
        start = time.monotonic()
        on_window("start")
        await asyncio.sleep(seconds)
        on_window("end")
        end = time.monotonic()
        frames = [s.frames_between(start, end) for s in playing]
        fps = [n / (end - start) for n in frames]
        refused = [s.frames_between(pressed, end) for s, a in zip(loaded, answers, strict=True)
                   if a == "busy"]  # fmt: skip
        told = [s.answer() != "playing" for s in playing]
        for s in playing:
            await s.click("Pause")
        details = [
            f"fps {f:.2f} told {t} maps {len(s.maps)} frames {len(s.frame_times)} "
            f"last {s.last_seq} now {s.answer()}"
            for s, f, t in zip(playing, fps, told, strict=True)
        ]
        return ClassResult(len(loaded), load_s, answers, notices, refused, frames, fps, told,
                           details)  # fmt: skip
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
        await asyncio.gather(*tasks, return_exceptions=True)


async def _until(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def play_class(
    url: str,
    count: int,
    seconds: float,
    compare: tuple[str, str] | None = None,
    retries: int = 0,
    on_window=lambda _when: None,
) -> ClassResult:
    """Open ``count`` sessions, press Play on each, count frames over ``seconds``; close them.

    ``compare`` (scenario, compared with) sets both panels first, then Reset; ``on_window``
    is called with ``"start"`` and ``"end"`` of the measured window (the bench samples the
    server's CPU there). ``retries``: rounds in which the sessions told busy press Play
    again, ``RETRY_AFTER_S`` apart, as a class would.
    """
    return asyncio.run(_play_class(url, count, seconds, compare, retries, on_window))
