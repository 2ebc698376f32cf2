"""Solara's front-end files, served from a local cache only (the app works offline).

Solara's page loads its front-end (Vue app, require.js, fonts, grid layout, KaTeX) through
the server's ``/_solara/cdn/`` route, from ``<env>/share/solara/cdn/<package>@<version>/``;
``scripts/install_solara_assets.py`` fills that folder from the npm registry. The packages
and versions are read from the installed Solara's own templates, so they follow an upgrade.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Front-end packages the app needs (Vue 2 app, since ipyvue < 2), by npm name.
WANTED = (
    "@widgetti/solara-vuetify-app",
    "requirejs",
    "@widgetti/vue-grid-layout",
    "katex",
)
MARK = ".complete"  # written last by the installer, so a half-extracted package is redone
_REF = re.compile(r"(?:cdn\}\}|getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+[\w.-]*)/")


class AssetsMissing(RuntimeError):
    """The local copy of a front-end package is missing."""


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
        raise AssetsMissing(f"no version of {', '.join(missing)} in solara's files")
    return found


def missing_assets() -> list[str]:
    """The front-end packages ('name@version') absent from Solara's local cache."""
    solara_dir, cache = solara_dirs()
    packages = wanted_packages(solara_dir)
    return [f"{n}@{v}" for n, v in packages.items() if not (cache / f"{n}@{v}" / MARK).is_file()]


def check_assets() -> None:
    """Raise ``AssetsMissing`` naming what to install when a front-end package is absent."""
    missing = missing_assets()
    if missing:
        raise AssetsMissing(
            f"front-end files missing: {', '.join(missing)}; "
            "run .venv/bin/python scripts/install_solara_assets.py (needs npm) first"
        )
