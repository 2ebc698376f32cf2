"""Rewrite the example calls as a Chinese 110 export: sim/examples/wuhan_110_export.csv.

A SYNTHETIC table (no real call is in it) made from sim/examples/wuhan_calls.csv (see
experiments/make_example_calls.py for the truth those rows were drawn from), laid out as a
110 dispatch system exports it (layout ``china_110``): Chinese column and call type names,
times without a zone (Beijing time), points in GCJ-02 (as a Chinese web map geocodes them,
converted with prcoords), dispatch, arrival and closing times, and a source column.

What it adds to the original rows, so that ``fit --split 2025-03-31`` has something to find:
- from 31 March (the synthetic "reform" date) the recorded response times are AFTER_FACTOR
  of the original ones (a station's response before, offices nearer the calls after);
- the dispatch delay is 1-3 minutes (uniform, seeded), part of the response time;
- one row in twelve is self-initiated (警情来源 巡逻发现), an officer's own stop;
- help requests about noise are named 噪音扰民, a type the scenario does not have.

Run from the repository root: ``python experiments/make_example_export.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import prcoords

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "sim" / "examples" / "wuhan_calls.csv"
OUT = ROOT / "sim" / "examples" / "wuhan_110_export.csv"
SEED = 20250331
SPLIT = pd.Timestamp("2025-03-31")
AFTER_FACTOR = 0.6
NAMES_ZH = {
    "fraud": "诈骗", "theft": "盗窃", "assault": "殴打他人", "tenancy_dispute": "租赁纠纷",
    "neighbour_dispute": "邻里纠纷", "facility_hazard": "设施隐患", "traffic": "交通事故",
    "help_request": "求助", "noise_complaint": "噪音扰民",
}  # fmt: skip
ISO = "%Y-%m-%d %H:%M:%S"


def main() -> None:
    """Write the export and say how many rows it has."""
    rng = np.random.default_rng(SEED)
    src = pd.read_csv(SOURCE, dtype=str, keep_default_na=False)
    n = len(src)
    when = pd.to_datetime(src["time"], errors="coerce", utc=True).dt.tz_convert("Asia/Shanghai")
    when = when.dt.tz_localize(None)
    response = pd.to_numeric(src["response_min"], errors="coerce")
    response = np.where(when >= SPLIT, response * AFTER_FACTOR, response)
    delay = np.minimum(rng.uniform(1.0, 3.0, n), response * 0.5)
    on_scene = pd.to_numeric(src["on_scene_min"], errors="coerce")
    dispatch = when + pd.to_timedelta(delay, unit="min")
    arrive = when + pd.to_timedelta(response, unit="min")
    close = arrive + pd.to_timedelta(on_scene, unit="min")
    types = src["type"].map(NAMES_ZH).fillna(src["type"])
    noisy = (src["type"] == "help_request") & (rng.random(n) < 0.1)
    types[noisy] = "噪音扰民"
    lon, lat = [], []
    for a, b in zip(src["lon"], src["lat"], strict=True):
        try:
            point = prcoords.wgs_gcj((float(b), float(a)))
            lon.append(f"{point.lon:.6f}")
            lat.append(f"{point.lat:.6f}")
        except ValueError:
            lon.append(a)
            lat.append(b)

    def text(stamps: pd.Series) -> list[str]:
        return ["" if pd.isna(s) else s.strftime(ISO) for s in stamps]

    written = [text(when)[i] if not pd.isna(when.iloc[i]) else src["time"][i] for i in range(n)]
    export = pd.DataFrame(
        {
            "接警单号": [f"420100{20250000 + i:08d}" for i in range(n)],
            "接警时间": written,
            "派警时间": text(dispatch),
            "到达现场时间": text(arrive),
            "处警结束时间": text(close),
            "警情类别": types,
            "警情级别": src["priority"],
            "经度": lon,
            "纬度": lat,
            "警情来源": np.where(rng.random(n) < 1 / 12, "巡逻发现", "110报警"),
        }
    )
    export.to_csv(OUT, index=False, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {n} rows")


if __name__ == "__main__":
    main()
