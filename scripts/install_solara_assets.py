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
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: Front-end packages the app needs (Vue 2 app, since ipyvue < 2), by npm name.
WANTED = (
    "@widgetti/solara-vuetify-app",
    "requirejs",
    "@widgetti/vue-grid-layout",
    "katex",
)
_MARK = ".complete"  # written last, so a half-extracted package is redone
_REF = re.compile(r"(?:cdn\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.-]*)/")


def solara_dirs() -> tuple[Path, Path]:
    """(installed solara package folder, its CDN cache folder)."""
    import solara
    import solara.server.settings as server_settings

    return Path(solara.__file__).parent, Path(server_settings.assets.proxy_cache_dir)


def wanted_packages(solara_dir: Path) -> dict[str, str]:
    """{npm name: exact version} referenced by the installed Solara for the packages we use."""
    import solara.server.settings as server_settings

    found: dict[str, str] = {}
    files = [*solara_dir.glob("server/templates/*.j2"), *solara_dir.rglob("*.vue")]
    files += list((solara_dir / "components").glob("*.py"))
    for path in files:
        for name, version in _REF.findall(path.read_text(encoding="utf-8", errors="ignore")):
            if name in WANTED:
                found.setdefault(name, version)
    fontawesome = re.match(r"/?([\w.-]+)@([\w.-]+)/", server_settings.assets.fontawesome_path)
    if fontawesome:
        found[fontawesome.group(1)] = fontawesome.group(2)
    missing = [name for name in WANTED if name not in found]
    if missing:
        sys.exit(f"install_solara_assets: no version of {', '.join(missing)} in solara's files")
    return found


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
    packages = wanted_packages(solara_dir)
    if args.check:
        missing = [
            f"{n}@{v}" for n, v in packages.items() if not (cache / f"{n}@{v}" / _MARK).is_file()
        ]
        print("missing: " + ", ".join(missing) if missing else f"all assets present in {cache}")
        return 1 if missing else 0
    fetched = [f"{n}@{v}" for n, v in packages.items() if install_package(n, v, cache)]
    if fetched:
        print(f"install_solara_assets: installed {', '.join(fetched)} into {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
