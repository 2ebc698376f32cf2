"""Every command's failure modes: one clear line, a non-zero exit, no traceback, nothing touched.

One table row per (command, bad input). Each runs the command line in this process (its
``main``), in an empty working folder holding only the files the row needs, and checks that
the command ends with exactly one line on stderr (``error: ...`` naming the problem), a
non-zero exit code, no traceback, and that no file or folder was written, changed or removed.
Every command of the command line and every command the README shows must have rows here:
a new command without one fails ``test_every_command_has_failure_rows``.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import sim.reporting.outputs
from sim.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--days", "1", "--reps", "1", "--workers", "1", "--quiet"]
SOBOL = str(ROOT / "experiments" / "sweeps" / "assumptions_sobol.yaml")
CALLS = str(ROOT / "sim" / "examples" / "wuhan_calls.csv")
NO_SALIB = ("SALib", "SALib.sample", "SALib.sample.sobol", "SALib.analyze", "SALib.analyze.sobol")


@dataclass(frozen=True)
class Case:
    """A command line, the text its one line must hold, and what the folder must hold."""

    argv: list[str]
    expected: str
    block: tuple[str, ...] = ()  # modules whose import fails (a missing optional extra)
    read_only: tuple[str, ...] = ()  # folders where creating a file fails (EACCES)
    files: dict[str, str] = field(default_factory=dict)  # extra files: name -> text


#: Files in every working folder: an empty file, a folder, a scenario that changes nothing,
#: a second scenario named like a shipped one, a results folder of someone else, a text file.
FILES = {
    "empty.yaml": "",
    "empty.csv": "",
    "empty.osm": "",
    "notes.txt": "my notes",
    "a folder/keep.txt": "keep",
    "ro/keep.txt": "keep",
    "same.yaml": "extends: central\nname: same\n",
    "twin.yaml": "extends: embedded\nname: embedded\n",
    "spec.yaml": "name: s\nscenario: erlang_c\ndesign: grid\nparameters: {seed: [1]}\n",
}

CASES: dict[str, dict[str, Case]] = {
    "main": {
        "out is a file": Case(["--out", "notes.txt", *QUICK], "a file is there"),
        "out holds other files": Case(["--out", "a folder", *QUICK], "not a results folder"),
        "json is a folder": Case(["--json", "a folder", *QUICK], "a folder is there"),
        "json is a device": Case(["--json", os.devnull, *QUICK], "a device is there"),
        "gis not gpkg": Case(["--gis", "notes.txt", *QUICK], "ending in .gpkg"),
        "out read-only": Case(["--out", "ro/new", *QUICK], "cannot write in ro", read_only=("ro",)),
        "no replications": Case(["--reps", "0", "--workers", "1", "--quiet"], "--reps 0"),
        "unknown option": Case(["--frobnicate"], "unrecognized arguments"),
    },
    "run": {
        "unknown scenario": Case(["run", "--scenario", "nope", *QUICK], "unknown scenario"),
        "empty scenario file": Case(["run", "--scenario", "empty.yaml", *QUICK], "mapping"),
        "folder as scenario": Case(["run", "--scenario", "a folder", *QUICK], "a folder"),
        "bad --set": Case(
            ["run", "--scenario", "erlang_c", "--set", "days", *QUICK], "dotted.path=value"
        ),
        "json is a device": Case(
            ["run", "--scenario", "erlang_c", "--json", os.devnull, *QUICK], "a device is there"
        ),
        "gis without streets": Case(
            ["run", "--scenario", "erlang_c", "--gis", "o.gpkg", *QUICK], "no street map"
        ),
        "empty calls table": Case(
            ["run", "--scenario", "embedded", "--set", "calls.trace=empty.csv", *QUICK], "empty.csv"
        ),
        "folder as calls table": Case(
            ["run", "--scenario", "embedded", "--set", "calls.trace=a folder", *QUICK],
            "calls.trace",
        ),
    },
    "compare": {
        "same scenario twice": Case(
            ["compare", "embedded", "embedded", *QUICK], "'embedded' is given 2 times"
        ),
        "a name that exists twice": Case(
            ["compare", "embedded", "twin.yaml", *QUICK], "'embedded' is given 2 times"
        ),
        "unknown second": Case(["compare", "central", "nope", *QUICK], "unknown scenario"),
        "out is a file": Case(
            ["compare", "central", "embedded", "--out", "notes.txt", *QUICK], "a file is there"
        ),
    },
    "decompose": {
        "nothing differs": Case(
            ["decompose", "central", "same.yaml", "--reps", "1", "--days", "1", "--quiet"],
            "differ in nothing",
        ),
        "json unsupported": Case(
            ["decompose", "central", "embedded", "--json", "x.json"], "--json not supported"
        ),
        "out is a file": Case(
            ["decompose", "central", "embedded", "--out", "notes.txt"], "a file is there"
        ),
    },
    "scenarios": {"extra argument": Case(["scenarios", "extra"], "unrecognized arguments")},
    "bulletin": {
        "no office": Case(["bulletin", "--scenario", "central"], "no community office"),
        "week out of range": Case(["bulletin", "--week", "99"], "--week 99"),
        "unknown office": Case(["bulletin", "--office", "nowhere"], "unknown office"),
    },
    "network": {
        "empty file": Case(["network", "empty.osm"], "cannot read OSM XML"),
        "missing file": Case(["network", "nope.graphml"], "not found"),
        "bad size": Case(["network", "synthetic", "--width-km", "-1"], "width_km"),
        "json is a folder": Case(
            ["network", "synthetic", "--json", "a folder"], "a folder is there"
        ),
        "json is a device": Case(
            ["network", "synthetic", "--json", os.devnull], "a device is there"
        ),
        "map is a folder": Case(
            ["network", "synthetic", "--map", "m.png"], "a folder is there", files={"m.png/x": ""}
        ),
    },
    "fit": {
        "empty table": Case(
            ["fit", "empty.csv", "--scenario", "embedded", "--out", "n.yaml"], "empty.csv"
        ),
        "folder as table": Case(
            ["fit", "a folder", "--scenario", "embedded", "--out", "n.yaml"], "not found"
        ),
        "out not yaml": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.txt"], "ending in .yaml"
        ),
        "report over a folder": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml"],
            "a folder is there",
            files={"n_fit.csv/x": ""},
        ),
        "unknown layout": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml", "--layout", "nope"],
            "--layout nope: no such layout",
        ),
        "missing types map": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml", "--types", "m.yaml"],
            "--types m.yaml: file not found",
        ),
        "add types without like": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml", "--add-types", "x"],
            "--add-types 'x': name the type",
        ),
        "split not a date": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml", "--split", "soon"],
            "--split 'soon': not a date",
        ),
        "unknown coordinate system": Case(
            ["fit", CALLS, "--scenario", "embedded", "--out", "n.yaml", "--crs", "mars"],
            "unknown coordinate system 'mars'",
        ),
    },
    "district": {
        "empty file": Case(["district", "empty.osm", "--out", "d"], "cannot read OSM XML"),
        "missing file": Case(["district", "nope.graphml", "--out", "d"], "not found"),
        "not a network": Case(["district", "notes.txt", "--out", "d"], "expected an .osm"),
        "bad communities": Case(
            ["district", "empty.osm", "--out", "d", "--communities", "abc"],
            "neither a number nor an existing file",
        ),
        "pair already there": Case(
            ["district", "empty.osm", "--out", "d"], "exists", files={"d/before.yaml": "x"}
        ),
    },
    "plan": {
        "unknown scenario": Case(
            ["plan", "offices", "nope", "--p", "2", "--out", "p.yaml"], "unknown scenario"
        ),
        "out is a folder": Case(
            ["plan", "offices", "embedded", "--p", "2", "--out", "a folder"],
            "a folder is there",
            files={"a folder.yaml/x": ""},
        ),
        "bad target": Case(
            ["plan", "staffing", "embedded", "--wait", "2", "--out", "p.yaml"], "--wait must be"
        ),
        "no kind": Case(["plan"], "required"),
    },
    "hypercube": {
        "unknown scenario": Case(["hypercube", "nope"], "unknown scenario"),
        "empty file": Case(["hypercube", "empty.yaml"], "mapping"),
    },
    "sweep": {
        "missing spec": Case(["sweep", "nope.yaml"], "cannot read sweep spec"),
        "empty spec": Case(["sweep", "empty.yaml"], "mapping"),
        "folder as spec": Case(["sweep", "a folder"], "cannot read sweep spec"),
        "without the sweep extras": Case(
            ["sweep", SOBOL, "--analyze", "--out", "s"], "scripts/setup sweep", block=NO_SALIB
        ),
        "analyze a grid": Case(
            ["sweep", "spec.yaml", "--analyze", "--out", "s"], "needs a sobol or morris design"
        ),
        "dask without the extras": Case(
            ["sweep", "spec.yaml", "--executor", "dask", "--out", "s"],
            "scripts/setup sweep",
            block=("distributed",),
        ),
    },
    "analyze": {
        "not a sweep folder": Case(["analyze", "a folder"], "not a sweep folder"),
        "missing folder": Case(["analyze", "nope"], "not a sweep folder"),
    },
    "viz": {
        "without the app extras": Case(["viz"], "scripts/setup viz", block=("solara",)),
        "bad port": Case(["viz", "--port", "70000"], "--port 70000"),
        "unknown scenario": Case(["viz", "--scenario", "nope"], "unknown scenario"),
    },
}


def readme_commands() -> set[str]:
    """The commands the README shows (``run_sim.py`` alone, or with options: the main job)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```.*?```", text, flags=re.S)
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    code = blocks + re.findall(r"`[^`\n]+`", prose)
    words = re.findall(r"python\S* +run_sim\.py(?:[ \t]+([a-z]\w*|-\S*|#))?", "\n".join(code))
    return {w if w and w[0].isalpha() else "main" for w in words}


def test_every_command_has_failure_rows():
    assert set(CASES) == set(COMMANDS)
    assert readme_commands() <= set(CASES), readme_commands() - set(CASES)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every path under ``folder`` with its kind, size and content digest."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        out[key] = ("dir",) if path.is_dir() else ("file", path.read_bytes())
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _block(monkeypatch, modules: tuple[str, ...]) -> None:
    """Make ``import module`` fail, as when an optional extra is not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _read_only(monkeypatch, folders: tuple[str, ...], workdir: Path) -> None:
    """Creating a file in these folders fails with EACCES (chmod does not stop root)."""
    real = sim.reporting.outputs.probe
    blocked = {(workdir / f).resolve() for f in folders}

    def probe(folder: Path) -> None:
        if Path(folder).resolve() in blocked:
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        real(folder)

    monkeypatch.setattr(sim.reporting.outputs, "probe", probe)


ROWS = [(command, name) for command, rows in CASES.items() for name in rows]


@pytest.mark.parametrize(("command", "name"), ROWS, ids=[f"{c}: {n}" for c, n in ROWS])
def test_bad_input_is_one_line_and_touches_nothing(command, name, workdir, monkeypatch, capsys):
    case = CASES[command][name]
    for rel, text in case.files.items():
        (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (workdir / rel).write_text(text, encoding="utf-8")
    _block(monkeypatch, case.block)
    _read_only(monkeypatch, case.read_only, workdir)
    monkeypatch.setattr(os, "execve", _never)  # viz must fail before it becomes the server
    before = snapshot(workdir)
    try:
        code = main(case.argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code not in (0, None), (out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert case.expected in lines[0], lines[0]
    assert snapshot(workdir) == before


def _never(*args):
    raise AssertionError("viz started a server on bad input")


def test_a_missing_extra_in_a_real_process_names_its_setup_command(tmp_path):
    """The same, as a user meets it: a new process in which SALib cannot be imported."""
    code = (
        "import sys; sys.modules['SALib'] = None\n"
        "from sim.cli import main\n"
        f"sys.exit(main(['sweep', {SOBOL!r}, '--analyze', '--out', 's']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --analyze needs the 'sweep' extras (SALib is not installed): run "
        "scripts/setup sweep (or pip install 'community-patrol-sim[sweep]')"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(workdir, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "records.parquet")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    before = snapshot(workdir)
    code = main(["run", "--scenario", "erlang_c", "--out", "r", "--json", "s.json", *QUICK])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert errors == ["error: cannot write or read: records.parquet: No space left on device"]
    assert err.strip().splitlines()[-1] == errors[0]  # after the run's own progress lines
    assert snapshot(workdir) == before  # no results folder, no JSON, no temporary files


def test_a_full_disk_while_writing_json_leaves_the_old_file(workdir, monkeypatch, capsys):
    (workdir / "s.json").write_text('{"old": true}')
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.name.startswith(".s.json."):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    code = main(["run", "--scenario", "erlang_c", "--out", "r", "--json", "s.json", *QUICK])
    capsys.readouterr()
    assert code == 1
    assert (workdir / "s.json").read_text() == '{"old": true}'
    assert not [p for p in workdir.iterdir() if p.name.endswith(".tmp")]


def test_a_results_folder_of_this_program_is_replaced(workdir, capsys):
    assert main(["run", "--scenario", "erlang_c", "--out", "r", *QUICK]) == 0
    (workdir / "r" / "old.txt").write_text("from the first run")
    assert main(["run", "--scenario", "erlang_c", "--out", "r", *QUICK]) == 0
    capsys.readouterr()
    assert not (workdir / "r" / "old.txt").exists()
    assert (workdir / "r" / "summary.json").is_file()
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []


def test_ctrl_c_during_an_import_is_one_line_and_130(monkeypatch, capsys):
    """Ctrl-C inside a compiled module's import can come out as an ImportError (numpy does
    this): the command still ends with one line and 130, not a traceback."""
    import signal

    import sim.cli

    def interrupted_import(command=None):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives mid-import ...
            raise AssertionError("SIGINT did not interrupt")
        except KeyboardInterrupt:  # ... and the extension turns it into an ImportError
            raise ImportError('PyCapsule_Import could not import module "datetime"') from None

    monkeypatch.setattr(sim.cli, "build_parser", interrupted_import)
    assert main(["scenarios"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_ctrl_c_inside_a_compiled_function_is_one_line_and_130(monkeypatch, capsys):
    """Ctrl-C while numba loads a compiled function comes out as a SystemError (seen in
    test_ctrl_c_stops_the_workers_and_leaves_no_orphans): still one line and 130."""
    import signal

    import sim.cli

    def interrupted_call(command=None):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            raise AssertionError("SIGINT did not interrupt")
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher returned a result with an exception set") from exc

    monkeypatch.setattr(sim.cli, "build_parser", interrupted_call)
    assert main(["scenarios"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


@pytest.mark.parametrize(
    "error", [SystemError("a real failure"), ImportError("a real missing module")], ids=repr
)
def test_an_error_without_ctrl_c_is_not_hidden(monkeypatch, error):
    import sim.cli

    def broken(command=None):
        raise error

    monkeypatch.setattr(sim.cli, "build_parser", broken)
    with pytest.raises(type(error), match=str(error)):
        main(["scenarios"])
