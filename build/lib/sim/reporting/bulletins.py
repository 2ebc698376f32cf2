"""Weekly bulletins of the community offices, in Chinese and English.

Modelled on the source's bulletin, posted to the residents' chat groups:
"本周张文昌警务室共接报警18起,其中刑事类警情3起,一是网上贷款受骗5000元,二是……".
A bulletin counts the calls made in the office's community during one week after warm-up
(whoever answered them), by type, the criminal ones, the notable (criminal) calls, and the
response and resolution figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.clock import MIN_PER_DAY, MIN_PER_WEEK
from sim.scenarios.schema import Scenario

_ZH_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Bulletin:
    """One office's bulletin for one week."""

    office: str
    community: str
    week: int  # 1 = the first week after warm-up
    calls: int
    criminal: int
    by_type: dict[str, int]
    zh: str
    en: str


#: Which weeks a results folder gets: the last ``LAST_WEEKS`` of each office, every week, none.
BULLETINS = ("last", "all", "none")
LAST_WEEKS = 4


@dataclass(frozen=True)
class Notable:
    """A criminal call named in a bulletin."""

    type: str
    t_call: float
    response_min: float


def full_weeks(scenario: Scenario) -> int:
    """How many full weeks after warm-up the run has (weeks 1..n get a bulletin)."""
    return int(scenario.days // 7)


def chosen_weeks(scenario: Scenario, which: str) -> list[int]:
    """The weeks ``which`` (one of ``BULLETINS``) asks for."""
    weeks = full_weeks(scenario)
    first = {"all": 1, "last": weeks - LAST_WEEKS + 1, "none": weeks + 1}[which]
    return list(range(max(first, 1), weeks + 1))


def weekly_bulletins(
    records: pd.DataFrame, scenario: Scenario, weeks: Iterable[int] | None = None
) -> list[Bulletin]:
    """Every office's bulletin for ``weeks`` (default: every full week after warm-up).

    One replication's records; the calls are grouped by (community, week) once.
    """
    wanted = list(range(1, full_weeks(scenario) + 1) if weeks is None else weeks)
    offices = [p for p in scenario.posts if p.kind == "office"]
    if not offices or not wanted:
        return []
    calls = _calls_by_week(records, scenario, wanted, {p.community for p in offices})
    stats = _week_stats(calls)
    by_type = _type_counts(calls)
    notable = _notable(calls)
    labels = {t.name: t.label_zh or t.name for t in scenario.calls.types}
    bulletins = []
    for post in offices:
        for week in wanted:
            key = (post.community, week)
            row = stats.get(key, _NO_CALLS)
            types = by_type.get(key, {})
            figures = {k: row[k] for k in ("mean", "within5", "resolved")}
            zh = _zh_text(post.name, week, row["calls"], notable.get(key, []), types, figures,
                          labels)  # fmt: skip
            en = _en_text(post.name, post.community, week, row["calls"], notable.get(key, []),
                          types, figures)  # fmt: skip
            bulletins.append(Bulletin(post.name, post.community, week, row["calls"],
                                      len(notable.get(key, [])), types, zh, en))  # fmt: skip
    return bulletins


_NO_CALLS = {"calls": 0, "mean": None, "within5": None, "resolved": None}


def _calls_by_week(
    records: pd.DataFrame, scenario: Scenario, weeks: list[int], communities: set[str]
) -> pd.DataFrame:
    """The counted calls of ``communities`` in ``weeks``, with their ``week`` (1 = first)."""
    starts = scenario.warmup_min + np.arange(full_weeks(scenario)) * MIN_PER_WEEK
    counted = records[~records["in_warmup"] & records["community"].isin(communities)]
    t_call = counted["t_call"].to_numpy(dtype=float)
    index = np.searchsorted(starts, t_call, side="right") - 1  # the week that started last
    inside = (index >= 0) & (t_call < starts[np.maximum(index, 0)] + MIN_PER_WEEK)
    week = np.where(inside, index + 1, 0)
    chosen = np.isin(week, weeks)
    return counted[chosen].assign(week=week[chosen])


def _week_stats(calls: pd.DataFrame) -> dict[tuple[str, int], dict]:
    """Per (community, week): calls, mean response, share within 5 min, share resolved."""
    response = calls["response_min"]
    helper = pd.DataFrame({
        "community": calls["community"], "week": calls["week"], "response": response,
        "answered": response.notna(), "within5": response <= 5,
        "resolved": calls["resolved"].astype(float).where(calls["t_clear"].notna()),
    })  # fmt: skip
    grouped = helper.groupby(["community", "week"]).agg(
        calls=("week", "size"), answered=("answered", "sum"), within5=("within5", "sum"),
        mean=("response", "mean"), resolved=("resolved", "mean"),
    )  # fmt: skip
    stats = {}
    for (community, week), row in zip(grouped.index, grouped.itertuples(index=False), strict=True):
        answered = int(row.answered)
        stats[(community, int(week))] = {
            "calls": int(row.calls),
            "mean": float(row.mean) if answered else None,
            "within5": row.within5 / answered if answered else None,
            "resolved": None if pd.isna(row.resolved) else float(row.resolved),
        }
    return stats


def _type_counts(calls: pd.DataFrame) -> dict[tuple[str, int], dict[str, int]]:
    """Per (community, week): calls by type, types in alphabetical order."""
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for (community, week, kind), n in calls.groupby(["community", "week", "type"]).size().items():
        counts.setdefault((community, int(week)), {})[kind] = int(n)
    return counts


def _notable(calls: pd.DataFrame) -> dict[tuple[str, int], list[Notable]]:
    """The criminal calls of each (community, week), in the order they were made."""
    criminal = calls[calls["criminal"]].sort_values("t_call", kind="stable")
    notable: dict[tuple[str, int], list[Notable]] = {}
    columns = ("community", "week", "type", "t_call", "response_min")
    for community, week, kind, t_call, response in zip(
        *(criminal[c].to_numpy() for c in columns), strict=True
    ):
        notable.setdefault((community, int(week)), []).append(
            Notable(kind, float(t_call), float(response))
        )
    return notable


def _when(t_min: float) -> tuple[int, str]:
    day = int(t_min // MIN_PER_DAY) + 1
    minute = int(t_min % MIN_PER_DAY)
    return day, f"{minute // 60:02d}:{minute % 60:02d}"


def _zh_text(office, week, calls: int, criminal: list[Notable], by_type, figures, labels) -> str:
    lines = [f"【{office} 每周警情通报】第{week}周"]
    head = f"本周{office}共接报警{calls}起,其中刑事类警情{len(criminal)}起"
    notable = []
    for k, row in enumerate(criminal):
        day, clock = _when(row.t_call)
        ordinal = _ZH_ORDINALS[k] if k < len(_ZH_ORDINALS) else str(k + 1)
        arrive = "" if pd.isna(row.response_min) else f",{row.response_min:.1f}分钟到场"
        notable.append(f"{ordinal}是{labels[row.type]}(第{day}天{clock}{arrive})")
    lines.append(head + (":" + ";".join(notable) + "。" if notable else "。"))
    if by_type:
        lines.append("分类:" + "、".join(f"{labels[t]}{n}起" for t, n in by_type.items()) + "。")
    if figures["mean"] is not None:
        lines.append(
            f"平均到场{figures['mean']:.1f}分钟,{figures['within5']:.0%}在5分钟内到场"
            + (
                f";首次出警解决率{figures['resolved']:.0%}。"
                if figures["resolved"] is not None
                else "。"
            )
        )
    lines.append("温馨提示:陌生来电谈贷款、转账,先挂断再核实,谨防电信网络诈骗。")
    return "\n".join(lines)


def _en_text(office, community, week, calls: int, criminal: list[Notable], by_type, figures) -> str:
    lines = [f"[{office} - weekly bulletin] Week {week}, {community}"]
    head = f"This week {office} received {calls} calls, {len(criminal)} of them criminal"
    notable = []
    for row in criminal:
        day, clock = _when(row.t_call)
        arrive = "" if pd.isna(row.response_min) else f", reached in {row.response_min:.1f} min"
        notable.append(f"{row.type.replace('_', ' ')} (day {day} {clock}{arrive})")
    lines.append(head + (": " + "; ".join(notable) + "." if notable else "."))
    if by_type:
        lines.append(
            "By type: " + ", ".join(f"{t.replace('_', ' ')} {n}" for t, n in by_type.items()) + "."
        )
    if figures["mean"] is not None:
        lines.append(
            f"Mean response {figures['mean']:.1f} min, {figures['within5']:.0%} within 5 min"
            + (
                f"; solved at first attendance {figures['resolved']:.0%}."
                if figures["resolved"] is not None
                else "."
            )
        )
    lines.append("Tip: a stranger calling about loans or transfers? Hang up and check first.")
    return "\n".join(lines)
