"""Weekly bulletins of the community offices, in Chinese and English.

Modelled on the source's bulletin, posted to the residents' chat groups:
"本周张文昌警务室共接报警18起,其中刑事类警情3起,一是网上贷款受骗5000元,二是……".
A bulletin counts the calls made in the office's community during one week after warm-up
(whoever answered them), by type, the criminal ones, the notable (criminal) calls, and the
response and resolution figures.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def weekly_bulletins(records: pd.DataFrame, scenario: Scenario) -> list[Bulletin]:
    """Every office's bulletin for every full week after warm-up (one replication's records)."""
    labels = {t.name: t.label_zh or t.name for t in scenario.calls.types}
    counted = records[~records["in_warmup"]]
    weeks = int(scenario.days // 7)
    bulletins = []
    for post in scenario.posts:
        if post.kind != "office":
            continue
        mine = counted[counted["community"] == post.community]
        for week in range(1, weeks + 1):
            start = scenario.warmup_min + (week - 1) * MIN_PER_WEEK
            in_week = mine[(mine["t_call"] >= start) & (mine["t_call"] < start + MIN_PER_WEEK)]
            bulletins.append(_bulletin(post.name, post.community, week, in_week, start, labels))
    return bulletins


def _bulletin(office, community, week, calls: pd.DataFrame, start_min, labels) -> Bulletin:
    by_type = calls["type"].value_counts().sort_index().to_dict()
    criminal = calls[calls["criminal"]].sort_values("t_call")
    answered = calls["response_min"].dropna()
    attended = calls[calls["t_clear"].notna()]
    figures = {
        "mean": answered.mean() if len(answered) else None,
        "within5": (answered <= 5).mean() if len(answered) else None,
        "resolved": attended["resolved"].mean() if len(attended) else None,
    }
    zh = _zh_text(office, week, calls, criminal, by_type, figures, labels)
    en = _en_text(office, community, week, calls, criminal, by_type, figures)
    return Bulletin(office, community, week, len(calls), len(criminal), by_type, zh, en)


def _when(t_min: float) -> tuple[int, str]:
    day = int(t_min // MIN_PER_DAY) + 1
    minute = int(t_min % MIN_PER_DAY)
    return day, f"{minute // 60:02d}:{minute % 60:02d}"


def _zh_text(office, week, calls, criminal, by_type, figures, labels) -> str:
    lines = [f"【{office} 每周警情通报】第{week}周"]
    head = f"本周{office}共接报警{len(calls)}起,其中刑事类警情{len(criminal)}起"
    notable = []
    for k, row in enumerate(criminal.itertuples()):
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


def _en_text(office, community, week, calls, criminal, by_type, figures) -> str:
    lines = [f"[{office} - weekly bulletin] Week {week}, {community}"]
    head = f"This week {office} received {len(calls)} calls, {len(criminal)} of them criminal"
    notable = []
    for row in criminal.itertuples():
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
