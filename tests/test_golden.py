"""Every shipped scenario gives the call records it gave before (golden digests).

The digests were made before the package was reorganised (tests/golden/make_golden.py); a
change meant to alter results regenerates them in a commit of its own, named in the
CHANGELOG.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from make_golden import records_digest

GOLDEN = json.loads((Path(__file__).parent / "golden" / "records.json").read_text())


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_records_are_byte_identical_to_the_golden_ones(name):
    assert records_digest(name) == GOLDEN[name]


def test_every_shipped_scenario_has_a_golden_digest():
    import sim

    assert set(sim.available_scenarios()) == set(GOLDEN)
