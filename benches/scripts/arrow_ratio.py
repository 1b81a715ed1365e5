#!/usr/bin/env python3
"""Issue 15's Python ratio, in one run on one capture: records into pyarrow Tables
(`read_capture(...).to_arrow()`, then `pyarrow.table` of each type) against building the
`to_dict()` rows of every record (`read_capture` iterated).

    python benches/scripts/arrow_ratio.py [CAPTURE]   # default examples/sample.pcap

Needs the `sunpower` package (scripts/test-python's venv) and pyarrow.
"""

import sys
import time
from pathlib import Path

import pyarrow
import sunpower

capture = sys.argv[1] if len(sys.argv) > 1 else str(
    Path(__file__).resolve().parents[2] / "examples" / "sample.pcap"
)


def best(f, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        n = f()
        times.append(time.perf_counter() - start)
    return n, min(times)


def rows():
    return len([r.to_dict() for post in sunpower.read_capture(capture) for r in post.records])


def tables():
    batches = sunpower.read_capture(capture).to_arrow()
    return sum(pyarrow.table(x).num_rows for x in batches.values())


n_rows, t_rows = best(rows)
n_tables, t_tables = best(tables)
assert n_rows == n_tables, (n_rows, n_tables)
print(f"{capture}: {n_rows} records")
print(f"to_dict() rows:  {t_rows:.3f} s  {n_rows / t_rows:,.0f} records/s")
print(f"pyarrow.Table:   {t_tables:.3f} s  {n_tables / t_tables:,.0f} records/s")
print(f"ratio: {t_rows / t_tables:.1f}x")
