"""The "what you see" panel (Markdown), from the message catalogue of each language."""

from __future__ import annotations

from sim.viz.messages import LANGUAGES, catalogue

__all__ = ["LANGUAGES", "what_you_see"]


def what_you_see(language: str) -> str:
    """The panel's Markdown in ``language`` ('en' or 'zh'; English for anything else)."""
    lang = language if language in LANGUAGES.values() else "en"
    return catalogue(lang)["what_you_see"]
