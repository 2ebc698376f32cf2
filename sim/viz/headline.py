"""The headline above the maps: the three comparisons in large type, each with its difference.

Mean response, share reached within 5 minutes and share solved at the first visit, for
each scenario on the page (before, after) and after minus before; under them the calls
waiting now and the longest wait, where a queue shows first.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import solara

from sim.viz.messages import t
from sim.viz.readouts import Readout
from sim.viz.style import scenario_color

BETTER, WORSE = "#1a7f37", "#c62828"


@dataclass(frozen=True)
class Comparison:
    """One headline figure: its values per scenario and after minus before."""

    key: str  # message key of its label
    values: tuple[float | None, ...]
    lower_is_better: bool
    percent: bool

    @property
    def difference(self) -> float | None:
        """Last minus first (None with one scenario or a missing value)."""
        if len(self.values) < 2 or None in (self.values[0], self.values[-1]):
            return None
        return self.values[-1] - self.values[0]

    def value_text(self, value: float | None) -> str:
        """'6.2 min' or '48%' ('-' before any call)."""
        if value is None:
            return "–"
        return f"{value:.0%}" if self.percent else t("minutes", value=f"{value:.1f}")

    def difference_text(self) -> str:
        """'−2.1 min' or '+12 pts' (empty without a difference)."""
        diff = self.difference
        if diff is None:
            return ""
        if self.percent:
            return t("points", value=f"{diff * 100:+.0f}".replace("-", "−"))
        return t("minutes", value=f"{diff:+.1f}".replace("-", "−"))

    def better(self) -> bool | None:
        """True when after is better than before (None: equal or unknown)."""
        diff = self.difference
        if diff is None or abs(diff) < 1e-9:
            return None
        return (diff < 0) == self.lower_is_better


def comparisons(readouts: list[Readout]) -> list[Comparison]:
    """The three headline figures of the page's scenarios."""
    return [
        Comparison("mean_response", tuple(r.response_mean for r in readouts), True, False),
        Comparison("within_5", tuple(r.within_5 for r in readouts), False, True),
        Comparison("solved_first", tuple(r.resolution for r in readouts), False, True),
    ]


@solara.component
def Headline(readouts: list[Readout]) -> None:
    """The headline block: one large card per comparison, then the queue line."""
    cards = "".join(_card(c) for c in comparisons(readouts))
    queue = " &nbsp;·&nbsp; ".join(
        f'<span style="color:{scenario_color(i)}">{html.escape(_queue_text(r))}</span>'
        for i, r in enumerate(readouts)
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f'<div class="patrol-headline-cards">{cards}</div>'
        f'<div class="patrol-queue">{queue}</div>',
        classes=["patrol-headline"],
    )


def _card(comparison: Comparison) -> str:
    values = " → ".join(
        f'<span style="color:{scenario_color(i)}">{html.escape(comparison.value_text(v))}</span>'
        for i, v in enumerate(comparison.values)
    )
    better = comparison.better()
    colour = "inherit" if better is None else (BETTER if better else WORSE)
    diff = html.escape(comparison.difference_text())
    diff_html = f'<span class="patrol-diff" style="color:{colour}">{diff}</span>' if diff else ""
    return (
        f'<div class="patrol-headline-card"><div class="patrol-headline-label">'
        f"{html.escape(t(comparison.key))}</div>"
        f'<div class="patrol-headline-values"><span class="patrol-headline-pair">{values}</span>'
        f" {diff_html}</div></div>"
    )


def _queue_text(readout: Readout) -> str:
    if not readout.waiting:
        return t("queue_none")
    longest = readout.longest_wait_min or 0.0
    return t("queue_now", waiting=readout.waiting, longest=f"{longest:.0f}")
