#!/usr/bin/env python3
"""The naive Python decoder of issue 6's target ("body parsing at least 30 times a naive Python
split-and-float decoder"), timed on a body file.

It does what a first script does: split the body into lines, each line into TAB-separated fields,
float() every measurement field (an empty one is None), and build a dict per record.

    python_baseline.py BODY [SECONDS]

Prints one line: python_naive bytes=.. records=.. iterations=.. seconds=.. mb_per_s=..
records_per_s=.. (MB = 10**6 bytes).
"""

import sys
import time

# First measurement field per record type: after timestamp, serial and model (130, 140, 141),
# after timestamp and serial (120). The 100 header and 102 trailer have none.
FIRST_NUMERIC = {"130": 4, "140": 4, "141": 4, "120": 3}


def decode(body):
    records = []
    for line in body.split("\n"):
        if not line:
            continue
        fields = line.split("\t")
        kind = fields[0]
        first = FIRST_NUMERIC.get(kind)
        record = {"type": kind, "fields": fields}
        if first is not None:
            record["timestamp"] = fields[1]
            record["serial"] = fields[2]
            try:
                record["values"] = [float(f) if f else None for f in fields[first:]]
            except ValueError:
                continue
        records.append(record)
    return records


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    budget = float(sys.argv[2]) if len(sys.argv) == 3 else 3.0
    with open(path, encoding="utf-8") as f:
        body = f.read()
    size = len(body.encode("utf-8"))
    records = len(decode(body))
    iterations = 0
    start = time.perf_counter()
    while True:
        decode(body)
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
    print(
        f"python_naive bytes={size} records={records} iterations={iterations} "
        f"seconds={elapsed:.3f} mb_per_s={size * iterations / elapsed / 1e6:.2f} "
        f"records_per_s={records * iterations / elapsed:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
