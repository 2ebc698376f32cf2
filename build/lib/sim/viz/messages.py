"""Every string the page shows, from one catalogue per language (``locale/<lang>.toml``).

``t(key, **values)`` gives the message in the page's language (``language``, a Solara
reactive: one per browser session; a component that calls ``t`` re-renders when it
changes). A key missing from a catalogue is an error in the tests, and falls back to English
on the page. Placeholders are ``str.format`` fields: ``{minutes}``.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import solara

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"English": "en", "中文": "zh"}  # the toggle's labels are the languages' own names
language = solara.reactive("en")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language, by key."""
    with (LOCALE_DIR / f"{lang}.toml").open("rb") as file:
        return tomllib.load(file)


def t(key: str, **values: object) -> str:
    """The message ``key`` in the page's language, with ``values`` filled in."""
    messages = catalogue(language.value)
    template = messages.get(key) or catalogue("en")[key]
    return template.format(**values) if values else template


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Within the block, ``t`` speaks ``lang`` (for tests and renderers outside a page)."""
    before = language.value
    language.set(lang)
    try:
        yield
    finally:
        language.set(before)
