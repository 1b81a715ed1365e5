#!/usr/bin/env python3
"""Issue 15's Python ratio, in one run on one capture: records into pyarrow Tables
(`read_capture(...).to_arrow()`, then `pyarrow.table` of each type) against building the
`to_dict()` rows of every record (`read_capture` iterated); then the same from records already
decoded (`records_to_arrow` of a list of `Record` against their `to_dict()`).

Also, in the same run: the ceiling of the first ratio, `to_dict()` rows against decoding alone
(`to_arrow([0])`: every record decoded and counted, none of type 0 to build), which any path
from the capture to a table pays; and, with `BASE_PYTHON` set to the interpreter of another
installation of the package (the wheel of an earlier commit), its `to_dict()` rows, timed by
that interpreter alternately with this one's.

    python benches/scripts/arrow_ratio.py [CAPTURE]   # default examples/sample.pcap
    BASE_PYTHON=target/base15-venv/bin/python python benches/scripts/arrow_ratio.py CAPTURE

Needs the `sunpower` package (scripts/test-python's venv) and pyarrow.
"""

import os
import subprocess
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


def decoding_alone():
    # No record has type 0: every record is decoded and counted, none built into a batch.
    assert not sunpower.read_capture(capture).to_arrow([0])
    return n_rows


def tables():
    batches = sunpower.read_capture(capture).to_arrow()
    return sum(pyarrow.table(x).num_rows for x in batches.values())


# The same two from records already decoded (a list of `Record`), without the capture's decoding.
decoded = [r for post in sunpower.read_capture(capture) for r in post.records]


def decoded_rows():
    return len([r.to_dict() for r in decoded])


def decoded_tables():
    batches = sunpower.records_to_arrow(decoded)
    return sum(pyarrow.table(x).num_rows for x in batches.values())


n_rows, t_rows = best(rows)
n_tables, t_tables = best(tables)
assert n_rows == n_tables, (n_rows, n_tables)
_, t_decoding = best(decoding_alone)
print(f"{capture}: {n_rows} records")
print(f"to_dict() rows:  {t_rows:.3f} s  {n_rows / t_rows:,.0f} records/s")
print(f"pyarrow.Table:   {t_tables:.3f} s  {n_tables / t_tables:,.0f} records/s")
print(f"ratio: {t_rows / t_tables:.1f}x")
print(f"decoding alone:  {t_decoding:.3f} s  (the ratio's ceiling: {t_rows / t_decoding:.1f}x)")

base = os.environ.get("BASE_PYTHON")
if base:
    # The other installation's to_dict() rows, alternately with this one's, best of 3 each.
    timer = (
        "import sys, time, sunpower\n"
        "start = time.perf_counter()\n"
        "n = len([r.to_dict() for p in sunpower.read_capture(sys.argv[1]) for r in p.records])\n"
        "print(n, time.perf_counter() - start)\n"
    )
    t_base, t_here = [], []
    for _ in range(3):
        out = subprocess.run([base, "-c", timer, capture], check=True, capture_output=True)
        n_base, seconds = out.stdout.split()
        assert int(n_base) == n_rows, (n_base, n_rows)
        t_base.append(float(seconds))
        t_here.append(best(rows, runs=1)[1])
    print(f"to_dict() rows with {base}: {min(t_base):.3f} s (this one's {min(t_here):.3f} s)")
    print(f"ratio against it: {min(t_base) / t_tables:.1f}x")
n_decoded, t_decoded_rows = best(decoded_rows)
n_decoded_tables, t_decoded_tables = best(decoded_tables)
assert n_decoded == n_decoded_tables == n_rows, (n_decoded, n_decoded_tables, n_rows)
print(f"from decoded records: to_dict() {t_decoded_rows:.3f} s, records_to_arrow {t_decoded_tables:.3f} s")
print(f"ratio from decoded records: {t_decoded_rows / t_decoded_tables:.1f}x")
