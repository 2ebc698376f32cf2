"""Write the golden digests of every shipped scenario's call records (tests/test_golden.py).

Run it only when a change is meant to alter results, in a commit of its own named in the
CHANGELOG: ``python tests/golden/make_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
#: The record columns the digests cover: those of the records when the digests were made.
#: Columns added later (e.g. ``found_by``) are left out, so a new column alone changes no
#: digest; a change to any of these values does.
COLUMNS = (
    "id", "type", "priority", "criminal", "community", "node", "t_call", "t_ready",
    "t_assigned", "t_arrive", "t_clear", "unit", "unit_post", "units", "queued", "travel_min",
    "response_min", "resolved", "repeat_of", "escalated", "first_type", "familiarity",
    "problem", "in_warmup",
)  # fmt: skip
DAYS = 42  # six weeks: repeats, escalations, duties, shifts and four-party repairs all happen


def records_digest(name: str) -> dict:
    """(rows, sha256 of the records as CSV) of replication 0 of a shipped scenario, no patrol."""
    import sim

    # with every unit staying at its post: the records from before patrol existed
    scenario = sim.load_scenario(name, days=DAYS, set={"units.*.patrol.policy": "stay"})
    model = sim.PatrolModel(scenario, replication=0)
    model.run()
    records = model.records()[list(COLUMNS)]
    text = records.to_csv(index=False, float_format="%.17g")
    return {"rows": len(records), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def shipped() -> list[str]:
    import sim

    return sorted(sim.available_scenarios())


if __name__ == "__main__":
    golden = {name: records_digest(name) for name in shipped()}
    (HERE / "records.json").write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(json.dumps(golden, indent=1), file=sys.stderr)
