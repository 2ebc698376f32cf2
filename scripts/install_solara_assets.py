"""Fill Solara's local CDN cache so the browser app works with no internet.

Solara's page loads its front-end (Vue app, require.js, fonts, the grid layout used by Mesa's
SolaraViz, KaTeX for Markdown) through the server's ``/_solara/cdn/`` proxy, which serves
``<env>/share/solara/cdn/<package>@<version>/...`` and fetches a missing file from a public
CDN at run time. This script puts those packages there ahead of time, taken from the npm
registry with ``npm pack``. The packages and versions are read from the installed Solara's
own templates, so they follow a Solara upgrade. Idempotent: a package already in place is
skipped, so a second run takes well under a second.

Usage: ``python scripts/install_solara_assets.py [--check]`` (``--check``: only report).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # sim, also uninstalled

from sim.viz.assets import MARK as _MARK
from sim.viz.assets import AssetsMissing, missing_assets, solara_dirs, wanted_packages

__all__ = ["install_package", "main", "solara_dirs", "wanted_packages"]


def install_package(name: str, version: str, cache: Path) -> bool:
    """Put ``name@version`` under ``cache``; return True if it was fetched now."""
    target = cache / f"{name}@{version}"
    if (target / _MARK).is_file():
        return False
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("install_solara_assets: npm is needed (Debian package 'npm') to fetch the assets")
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            sys.exit(f"install_solara_assets: npm pack {name}@{version} failed: {result.stderr}")
        staging = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(staging, filter="data")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging / "package"), target)
    (target / _MARK).write_text(f"{name}@{version}\n")
    return True


def main(argv: list[str] | None = None) -> int:
    """Install (or with --check, report) the assets; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="report what is missing, fetch nothing"
    )
    args = parser.parse_args(argv)
    solara_dir, cache = solara_dirs()
    try:
        packages = wanted_packages(solara_dir)
    except AssetsMissing as exc:
        sys.exit(f"install_solara_assets: {exc}")
    if args.check:
        missing = missing_assets()
        print("missing: " + ", ".join(missing) if missing else f"all assets present in {cache}")
        return 1 if missing else 0
    fetched = [f"{n}@{v}" for n, v in packages.items() if install_package(n, v, cache)]
    if fetched:
        print(f"install_solara_assets: installed {', '.join(fetched)} into {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
