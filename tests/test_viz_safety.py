"""The app's server refuses what a classroom network could send it (bounded requests, loopback).

Each attack is one test against a real server (``run_sim.py viz``'s command) on a free
loopback port: a websocket from another origin, forwarded and script-name headers, a
``/_solara/cdn/`` file that is not in the local cache (the server's 'CDN' is a loopback port
that counts connections: none may come), the diagnostic routes. The gate's flags
(``--behind-proxy``, ``--debug``) are checked on ``Gate`` itself, without a server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the browser app needs the 'viz' extras")
websockets_client = pytest.importorskip("websockets.sync.client")

from viz_support import Server, start_server  # noqa: E402

from sim.viz.gate import Gate, same_origin, without_proxy_headers  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server("server-safety.log")
    try:
        yield running
    finally:
        running.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _websocket_url(server: Server) -> str:
    kernel = uuid.uuid4()
    return (
        f"ws://127.0.0.1:{server.port}/jupyter/api/kernels/{kernel}/channels"
        f"?session_id={uuid.uuid4()}"
    )


def test_a_websocket_from_another_origin_is_refused(server):
    with pytest.raises(Exception, match="403") as refused:
        websockets_client.connect(
            _websocket_url(server), origin="http://attacker.example", open_timeout=10
        )
    assert "InvalidStatus" in type(refused.value).__name__
    with pytest.raises(Exception, match="403"):  # no origin at all: not a page of ours
        websockets_client.connect(_websocket_url(server), open_timeout=10)
    own = f"http://127.0.0.1:{server.port}"
    with websockets_client.connect(_websocket_url(server), origin=own, open_timeout=10):
        pass  # the page's own origin is let through


def test_script_name_and_forwarded_headers_are_ignored(server):
    evil = {
        "X-Script-Name": "http://attacker.example/x",
        "Script-Name": "http://attacker.example/y",
        "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-Proto": "https",
        "Forwarded": "host=attacker.example",
    }
    status, first = _get(server.url, evil)
    assert status == 200
    status, later = _get(server.url)  # another visitor, after the forged request
    assert status == 200
    assert "attacker.example" not in first and "attacker.example" not in later
    assert '"/static/' in later or "'/static/" in later or "/static/" in later


@pytest.mark.parametrize(
    "path",
    [
        "_solara/cdn/left-pad@1.3.0/index.js",  # not in the cache: would be downloaded
        "_solara/cdn/requirejs@2.3.6",  # Solara stores a bare package as <name>/__main.js
        "_solara/cdn/%2E%2E/%2E%2E/etc/passwd",
    ],
)
def test_a_cdn_file_not_in_the_cache_is_404_and_nothing_is_fetched(server, path):
    status, _ = _get(server.url + path)
    assert status == 404
    assert server.cdn.connections == 0


def test_a_cached_folder_asked_for_as_a_file_is_404_and_kept(server):
    from sim.viz.assets import solara_dirs, wanted_packages

    solara_dir, cache = solara_dirs()
    version = wanted_packages(solara_dir)["@widgetti/solara-vuetify-app"]
    folder = cache / f"@widgetti/solara-vuetify-app@{version}"
    assert folder.is_dir()
    status, _ = _get(f"{server.url}_solara/cdn/@widgetti/solara-vuetify-app@{version}")
    assert status == 404
    assert folder.is_dir()  # Solara itself would delete it and download it again


def test_the_page_loads_its_front_end_from_the_cache(server):
    _, page = _get(server.url)
    assert "_solara/cdn/" in page
    from sim.viz.assets import solara_dirs, wanted_packages

    solara_dir, _ = solara_dirs()
    version = wanted_packages(solara_dir)["requirejs"]
    status, _ = _get(f"{server.url}_solara/cdn/requirejs@{version}/require.js")
    assert status == 200


@pytest.mark.parametrize(
    "path", ["resourcez", "resourcez?verbose", "readyz", "debugz", "debugz?holders=AppModel"]
)
def test_diagnostic_routes_are_off(server, path):
    status, body = _get(server.url + path)
    assert status == 404
    assert "memory" not in body and "cpu" not in body.lower()


def test_startup_fails_in_one_line_when_front_end_files_are_missing(tmp_path):
    env = {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "sim.viz.serve", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 2
    assert "front-end files missing" in result.stderr
    assert "install_solara_assets.py" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # nothing was downloaded into the cache


# -- the gate's flags, on Gate itself ---------------------------------------------------------
class _Recorder:
    """A stand-in for Solara's app: keeps the scope it was given."""

    def __init__(self) -> None:
        self.scopes: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        self.scopes.append(scope)


def _run(gate: Gate, scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    asyncio.run(gate(scope, receive, send))
    return sent


def _scope(kind: str, path: str, headers: dict[str, str]) -> dict:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": kind, "path": path, "headers": raw}


FORWARDED = {"host": "app.school", "x-forwarded-host": "proxy.school", "x-script-name": "/app"}


def test_gate_keeps_proxy_headers_only_behind_a_proxy(tmp_path):
    app = _Recorder()
    _run(Gate(app, tmp_path), _scope("http", "/", FORWARDED))
    _run(Gate(app, tmp_path, behind_proxy=True), _scope("http", "/", FORWARDED))
    plain, trusted = ({k for k, _ in s["headers"]} for s in app.scopes)
    assert plain == {b"host"}
    assert trusted == {b"host", b"x-forwarded-host", b"x-script-name"}


def test_gate_serves_diagnostics_only_with_debug(tmp_path):
    app = _Recorder()
    refused = _run(Gate(app, tmp_path), _scope("http", "/resourcez", {}))
    assert refused[0]["status"] == 404 and not app.scopes
    _run(Gate(app, tmp_path, debug=True), _scope("http", "/resourcez", {}))
    assert len(app.scopes) == 1
    assert _run(Gate(app, tmp_path), _scope("http", "/debugz", {}))[0]["status"] == 404


def test_gate_debugz_answers_what_the_process_holds_only_with_debug(tmp_path):
    app = _Recorder()
    scope = _scope("http", "/debugz", {}) | {"query_string": b"holders=Gate"}
    sent = _run(Gate(app, tmp_path, debug=True), scope)
    assert sent[0]["status"] == 200 and not app.scopes
    found = json.loads(sent[1]["body"])
    assert found["threads"]["MainThread"] == 1
    assert found["rss_mb"] > 0
    assert found["holders"][-1].startswith("Gate: ")  # the chain ends at the object asked for


def test_gate_origin_rules():
    def headers(**h: str) -> list[tuple[bytes, bytes]]:
        return [(k.replace("_", "-").encode(), v.encode()) for k, v in h.items()]

    assert same_origin(headers(origin="http://10.0.0.5:8765", host="10.0.0.5:8765"))
    assert not same_origin(headers(origin="http://evil:8765", host="10.0.0.5:8765"))
    assert not same_origin(headers(host="10.0.0.5:8765"))  # no origin
    assert not same_origin(headers(origin="null", host="10.0.0.5:8765"))
    behind = headers(
        origin="https://proxy.school", host="app:8765", x_forwarded_host="proxy.school"
    )
    assert same_origin(behind, behind_proxy=True)
    assert not same_origin(behind, behind_proxy=False)
    assert without_proxy_headers(headers(forwarded="for=1", host="h")) == [(b"host", b"h")]


def test_gate_refuses_a_foreign_websocket_before_the_app_sees_it(tmp_path):
    app = _Recorder()
    sent = _run(Gate(app, tmp_path), _scope("websocket", "/x", {"origin": "http://e", "host": "h"}))
    assert sent == [{"type": "websocket.close", "code": 1008}] and not app.scopes
