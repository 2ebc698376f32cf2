"""Helpers shared by the app's server tests (test_viz_browser, test_viz_safety).

A plain module, not a conftest: nothing here runs unless a test imports it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sim.cli.viz import server_command, server_env

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "viz"


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountingListener:
    """A loopback port that counts connections (a stand-in CDN: none may come)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.socket.close()


@dataclass
class Server:
    """The app's server process, its address and its log."""

    url: str
    process: subprocess.Popen
    log: Path
    cdn: CountingListener | None = field(default=None)

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def cpu_s(self) -> float:
        """CPU seconds the server process has used (user + system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        """The server process's thread count."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("Threads:")))

    def rss_mb(self) -> float:
        """The server process's resident memory, MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:"))
        return int(kb) / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.cdn is not None:
            self.cdn.close()


def wait_until_up(server: Server, timeout_s: float = 240) -> None:
    """Wait for the page to answer 200; fail with the server's log if it exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the app server exited with {server.process.returncode}:\n"
                        f"{server.log_text()}")  # fmt: skip
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the app server did not answer at {server.url} within {timeout_s} s")


def start_server(log_name: str, *flags: str, env: dict[str, str] | None = None) -> Server:
    """The app on a free loopback port, its 'CDN' a loopback port that counts connections."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cdn = CountingListener()
    full_env = server_env() | (env or {})
    full_env["SOLARA_ASSETS_CDN"] = f"http://127.0.0.1:{cdn.port}/"  # a fetch would show here
    command = server_command("127.0.0.1", port, "--behind-proxy" in flags, "--debug" in flags)
    log = ARTIFACTS / log_name
    with log.open("w") as out:
        process = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}/", process, log, cdn)
    try:
        wait_until_up(server)
    except BaseException:
        server.stop()
        raise
    return server
