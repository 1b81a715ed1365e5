"""Records per second: sunpower.parse_body against a naive pure-Python decoder, same run.

    python sunpower-py/bench/bench_parse.py [REPEAT]   # default: the forum body 1000 times

The naive decoder splits lines and fields and converts the typed fields of the 130 lines (the
bulk of a body) to float/int/datetime, with no validation: a floor for what Python code costs.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path
from typing import Any, Callable

import sunpower

BODY = Path(__file__).resolve().parents[2] / "examples" / "bodies" / "forum-2017-body.txt"
UTC = datetime.timezone.utc


def naive_timestamp(s: str) -> datetime.datetime:
    return datetime.datetime(
        int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[8:10]), int(s[10:12]), int(s[12:14]), tzinfo=UTC
    )


def naive_parse(data: bytes) -> list[dict[str, Any]]:
    out = []
    for line in data.decode().splitlines():
        if not line:
            continue
        f = line.split("\t")
        rec: dict[str, Any] = {"record_type": int(f[0]), "raw": f}
        if rec["record_type"] == 130:
            rec["timestamp"] = naive_timestamp(f[1])
            rec["serial"] = f[2]
            rec["model"] = f[3]
            rec["lifetime_energy_kwh"] = float(f[4]) if f[4] else None
            rec["ac_power_kw"] = float(f[5]) if f[5] else None
            for name, value in zip(("ac_voltage_v", "ac_current_a", "dc_power_kw", "dc_voltage_v",
                                    "dc_current_a", "heatsink_temp_c", "frequency_hz"), f[6:13]):
                rec[name] = float(value) if value else None
            rec["status"] = int(f[13]) if f[13] else None
        out.append(rec)
    return out


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    data = BODY.read_bytes() * repeat
    count = len(sunpower.parse_body(data))
    assert count == len(naive_parse(data))
    records = sunpower.parse_body(data)

    def energy() -> float:
        return sum(r.lifetime_energy_kwh or 0.0 for r in records)

    def to_dicts() -> list[dict[str, Any]]:
        return [r.to_dict() for r in records]

    rows = [
        ("sunpower.parse_body", best_of(5, lambda: sunpower.parse_body(data))),
        ("naive Python split decoder", best_of(5, lambda: naive_parse(data))),
        ("read .lifetime_energy_kwh of every record", best_of(5, energy)),
        ("record.to_dict() of every record", best_of(3, to_dicts)),
    ]
    print(f"{count} records ({len(data) / 1e6:.1f} MB), best of several runs")
    for name, seconds in rows:
        print(f"{name:45s} {seconds * 1e3:8.1f} ms  {count / seconds / 1e6:6.2f} M records/s")


if __name__ == "__main__":
    main()
