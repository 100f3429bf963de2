"""Validation at the door (sources/validation.py): how long checking a batch takes, against a
baseline measured in the same run: only parsing the same rows' numbers and dates with pandas,
which any storage needs anyway.

    python benchmarks/validation.py [--rows 100000]

Prints seconds and rows per second for a clean CSV-shaped batch (1,000 channels × 100
measures) and for one where every tenth row is hostile (inf, 1e30, a 65-character name, a
NUL, a conflicting duplicate), and each one's ratio to the baseline.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import django
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decisionhub.settings")
os.environ.setdefault("SECRET_KEY", "benchmark")
django.setup()

from sources.connectors.base import BATCH_COLUMNS  # noqa: E402
from sources.validation import validate  # noqa: E402

DAY = dt.date(2026, 3, 10)
HOSTILE = ["inf", "1e30", None, None, "7"]


def batch(rows: int, *, hostile: bool) -> pd.DataFrame:
    records = []
    for n in range(rows):
        channel, measure, value = f"ch{n % 1000}", f"m{n // 1000 % 100}", str(n)
        if hostile and n % 10 == 0:
            kind = n // 10 % 5
            value = HOSTILE[kind] or value
            channel = "x" * 65 if kind == 2 else "bad\x00" if kind == 3 else channel
        records.append((DAY, channel, "", "", measure, value))
    if hostile:
        records += [(DAY, "ch1", "", "", "m0", "-1")]  # conflicts with row 1
    frame = pd.DataFrame(records, columns=BATCH_COLUMNS)
    frame["line"] = range(2, len(frame) + 2)
    return frame


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    for hostile in (False, True):
        frame = batch(rows, hostile=hostile)
        baseline = timed(lambda f=frame: (pd.to_numeric(f["value"], errors="coerce"),
                                          pd.to_datetime(f["date"])))  # fmt: skip
        start = time.perf_counter()
        good, rejected = validate(frame, since=DAY, until=DAY, measures=[])
        seconds = time.perf_counter() - start
        label = "hostile (1 row in 10)" if hostile else "clean"
        print(
            f"{label:>22}: {len(frame):,} rows in {seconds:.2f} s ({len(frame) / seconds:,.0f}/s), "
            f"{len(good):,} kept, {len(rejected):,} refused; "
            f"baseline parse {baseline:.3f} s, ratio {seconds / baseline:.1f}x"
        )


if __name__ == "__main__":
    main()
