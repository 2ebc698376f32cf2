"""Results folders of long runs: the last weeks' bulletins by default, all on request, an index."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim.analysis.replications import run_once
from sim.cli import main
from sim.reporting.bulletins import LAST_WEEKS, chosen_weeks, weekly_bulletins
from sim.reporting.figures import cdf_steps
from sim.scenarios.load import load_scenario

DAYS = 42  # six full weeks


def _weeks_in(folder) -> dict[str, list[int]]:
    """Office file -> the weeks its English bulletins cover."""
    return {
        path.name: [int(w) for w in re.findall(r"\] Week (\d+),", path.read_text("utf-8"))]
        for path in sorted(folder.glob("*.en.txt"))
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The same run written with the default, with --bulletins all and with none."""
    base = tmp_path_factory.mktemp("folders")
    out = {}
    for option in ("default", "all", "none"):
        argv = ["run", "--scenario", "embedded", "--days", str(DAYS), "--reps", "1",
                "--workers", "1", "--quiet", "--out", str(base / option)]  # fmt: skip
        if option != "default":
            argv += ["--bulletins", option]
        assert main(argv) == 0
        out[option] = base / option
    return out


@pytest.mark.slow
def test_by_default_only_the_last_weeks_of_each_office_are_written(folders, capsys):
    capsys.readouterr()
    weeks = _weeks_in(folders["default"] / "bulletins" / "embedded")
    offices = [p.name for p in load_scenario("embedded").posts if p.kind == "office"]
    assert len(weeks) == len(offices) >= 2
    last = list(range(DAYS // 7 - LAST_WEEKS + 1, DAYS // 7 + 1))
    assert all(w == last for w in weeks.values()), weeks
    zh = next((folders["default"] / "bulletins" / "embedded").glob("*.zh.txt")).read_text("utf-8")
    assert re.findall(r"第(\d+)周", zh) == [str(w) for w in last]
    index = (folders["default"] / "README.txt").read_text("utf-8")
    assert f"weeks {last[0]}-{last[-1]} of 1-{DAYS // 7}" in index
    assert "--bulletins all" in index and "run_sim.py bulletin" in index
    assert "records.parquet" in index and "response_cdf.png" in index


def test_bulletins_all_writes_every_week_and_none_writes_none(folders):
    weeks = _weeks_in(folders["all"] / "bulletins" / "embedded")
    assert weeks and all(w == list(range(1, DAYS // 7 + 1)) for w in weeks.values())
    assert "every week (1-6)" in (folders["all"] / "README.txt").read_text("utf-8")
    assert not (folders["none"] / "bulletins").exists()
    assert "none of 1-6" in (folders["none"] / "README.txt").read_text("utf-8")
    # the last weeks are the same text whichever option wrote them
    default = folders["default"] / "bulletins" / "embedded"
    for path in default.glob("*.en.txt"):
        full = (folders["all"] / "bulletins" / "embedded" / path.name).read_text("utf-8")
        assert full.endswith(path.read_text("utf-8"))


def test_bad_bulletins_option_fails_cleanly(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--scenario", "erlang_c", "--bulletins", "some", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--bulletins" in capsys.readouterr().err


def test_chosen_weeks():
    sc = load_scenario("embedded", days=365)
    assert chosen_weeks(sc, "last") == [49, 50, 51, 52]
    assert chosen_weeks(sc, "all") == list(range(1, 53))
    assert chosen_weeks(sc, "none") == []
    assert chosen_weeks(load_scenario("embedded", days=14), "last") == [1, 2]


def _brute_force(records: pd.DataFrame, scenario, community: str, week: int) -> dict:
    """One office's week computed call by call, as the bulletin defines it."""
    start = scenario.warmup_min + (week - 1) * 7 * 1440
    rows = [r for r in records.to_dict("records")
            if not r["in_warmup"] and r["community"] == community
            and start <= r["t_call"] < start + 7 * 1440]  # fmt: skip
    answered = [r["response_min"] for r in rows if not np.isnan(r["response_min"])]
    attended = [r["resolved"] for r in rows if not np.isnan(r["t_clear"])]
    criminal = sorted((r for r in rows if r["criminal"]), key=lambda r: r["t_call"])
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r["type"]] = by_type.get(r["type"], 0) + 1
    return {
        "calls": len(rows),
        "criminal": [r["type"].replace("_", " ") for r in criminal],
        "by_type": dict(sorted(by_type.items())),
        "mean": sum(answered) / len(answered) if answered else None,
        "within5": sum(a <= 5 for a in answered) / len(answered) if answered else None,
        "resolved": sum(attended) / len(attended) if attended else None,
    }


@pytest.mark.slow
def test_a_bulletin_equals_a_brute_force_count_of_its_calls():
    sc = load_scenario("embedded", days=21)
    _, records, _ = run_once(sc, 0)
    bulletins = weekly_bulletins(records, sc)
    offices = {p.name: p.community for p in sc.posts if p.kind == "office"}
    assert len(bulletins) == 3 * len(offices)
    with_criminal = 0
    for b in bulletins:
        truth = _brute_force(records, sc, offices[b.office], b.week)
        assert (b.calls, b.criminal, b.by_type) == (
            truth["calls"], len(truth["criminal"]), truth["by_type"]
        )  # fmt: skip
        assert f"received {truth['calls']} calls, {len(truth['criminal'])} of them" in b.en
        assert f"共接报警{truth['calls']}起,其中刑事类警情{len(truth['criminal'])}起" in b.zh
        named = re.findall(r"([a-z ]+) \(day \d+ \d\d:\d\d", b.en.split(" criminal")[1])
        assert [n.strip() for n in named] == truth["criminal"]
        with_criminal += bool(truth["criminal"])
        if truth["mean"] is not None:
            assert f"Mean response {truth['mean']:.1f} min, {truth['within5']:.0%}" in b.en
        if truth["resolved"] is not None:
            assert f"solved at first attendance {truth['resolved']:.0%}" in b.en
        one = weekly_bulletins(records, sc, [b.week])
        assert b in one  # one week alone (the bulletin command) gives the same bulletin
    assert with_criminal > 0  # the notable-call lines were checked too


def test_the_response_cdf_is_exact_at_every_hundredth_of_a_minute():
    rng = np.random.default_rng(3)
    response = np.r_[rng.lognormal(1.5, 0.5, 5000), [3.0, 5.0, 0.01]]
    calls = len(response) + 100  # some calls were never answered
    t, share = cdf_steps(response, calls)
    assert len(t) < len(response) and np.all(np.diff(t) > 0)
    for at in (*t[::97], 3.0, 5.0, 10.0):
        k = np.searchsorted(t, at, side="right") - 1
        assert share[k] == pytest.approx((response <= at + 1e-9).sum() / calls)
    assert share[-1] == pytest.approx(len(response) / calls)
