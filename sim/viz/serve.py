"""The app's server: Solara's ASGI app behind ``Gate``, run by uvicorn in this process.

``python -m sim.viz.serve --host H --port P [--behind-proxy] [--debug]`` (what
``run_sim.py viz`` runs). Solara reads its settings from the environment when first
imported, so ``settings_env`` is set before any Solara import: production mode, no
telemetry, a closed page's session freed after ``CULL_TIMEOUT``; the janitor task gives
back idle threads and freed memory once pages close (``sim.viz.janitor``). Startup fails with one
line when a front-end file is missing from the local cache (nothing is ever downloaded).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

APP_FILE = Path(__file__).resolve().parent / "app.py"
CULL_TIMEOUT = "30s"  # a page gone (no websocket) this long: its session is freed


def settings_env(host: str, port: int) -> dict[str, str]:
    """Solara's settings for a classroom server (as environment variables)."""
    return {
        "SOLARA_APP": str(APP_FILE),
        "SOLARA_MODE": "production",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": CULL_TIMEOUT,
        "SOLARA_THEME_SHOW_BANNER": "False",  # the badge would cover the page's corner
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
    }


def build_app(behind_proxy: bool = False, debug: bool = False):
    """Solara's app behind the gate (call after ``settings_env`` is in ``os.environ``)."""
    import solara.server.settings as server_settings
    import solara.settings
    from solara.server.starlette import app

    from sim.viz.assets import check_assets
    from sim.viz.gate import Gate

    check_assets()
    if not solara.settings.assets.proxy:
        raise RuntimeError("Solara's asset route is off (SOLARA_ASSETS_PROXY): pages would blank")
    server_settings.main.mode = "production"
    if not behind_proxy:
        server_settings.main.root_path = ""  # never taken from a request's headers
    cdn_dir = server_settings.assets.proxy_cache_dir
    return Gate(app, cdn_dir, behind_proxy=behind_proxy, debug=debug)


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; 2 and one line on stderr when the app cannot start."""
    parser = argparse.ArgumentParser(prog="python -m sim.viz.serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--behind-proxy", action="store_true")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    os.environ.update(settings_env(args.host, args.port))
    import uvicorn

    from sim.viz.assets import AssetsMissing

    try:
        app = build_app(args.behind_proxy, args.debug)
    except (AssetsMissing, RuntimeError) as exc:
        print(f"run_sim.py viz: {exc}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        proxy_headers=args.behind_proxy,  # X-Forwarded-For/Proto trusted only behind a proxy
        server_header=False,
        log_level="warning",
        ws_max_size=4 * 2**20,
    )
    asyncio.run(serve(uvicorn.Server(config)))
    return 0


async def serve(server) -> None:
    """Run a uvicorn server with the janitor (idle threads and freed memory given back)."""
    from sim.viz.janitor import janitor

    task = asyncio.create_task(janitor())
    try:
        await server.serve()
    finally:
        task.cancel()


if __name__ == "__main__":
    sys.exit(main())
