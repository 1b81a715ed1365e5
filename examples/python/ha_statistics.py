#!/usr/bin/env python3
"""Home Assistant long-term statistics from a SunPower capture.

Turns the 5-minute intervals of :class:`sunpower.Intervals` into the hourly rows Home
Assistant's recorder takes for *external* statistics (``async_add_external_statistics``, or
the ``recorder.import_statistics`` action): for each statistic a metadata dict
(``StatisticMetaData``) and a list of rows (``StatisticData``)

    {"start": <aware datetime, top of an hour, UTC>, "state": <kWh in that hour>,
     "sum": <kWh since the first hour>}

for four statistics, all in kWh with ``has_sum`` (the energy dashboard reads ``sum``):

- ``sunpower:energy_production``: what the inverters produced;
- ``sunpower:energy_consumption``: what the house used (consumption meter);
- ``sunpower:grid_import``: energy taken from the grid (intervals with a positive net);
- ``sunpower:grid_export``: energy sent to the grid (intervals with a negative net).

The script never imports Home Assistant: it makes plain dicts. By default (dry run) it prints
them as JSON; in a pyscript or AppDaemon app, call :func:`build_statistics` and hand each pair
to the recorder::

    for metadata, rows in build_statistics(rows_from_sunpower, start_sums=last_sums):
        async_add_external_statistics(hass, metadata, rows)

To continue an existing series, pass the last ``sum`` of each statistic as ``start_sums``
(``--start-sums`` on the command line), else every series starts at 0.

    python ha_statistics.py --tz America/Los_Angeles capture.pcap > statistics.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import sunpower

SOURCE = "sunpower"

# statistic_id -> display name
STATISTICS: dict[str, str] = {
    f"{SOURCE}:energy_production": "SunPower energy production",
    f"{SOURCE}:energy_consumption": "SunPower energy consumption",
    f"{SOURCE}:grid_import": "SunPower grid import",
    f"{SOURCE}:grid_export": "SunPower grid export",
}

Metadata = Dict[str, Any]
Row = Dict[str, Any]


def metadata(statistic_id: str, *, legacy: bool = False) -> Metadata:
    """``StatisticMetaData`` for one of :data:`STATISTICS`.

    ``has_mean`` is what older Home Assistant versions read; recent ones want ``mean_type``
    (0, ``NONE``) and ``unit_class`` besides, and warn without them. Those two are given unless
    ``legacy`` (for versions, or ``import_statistics`` schemas, that refuse keys they do not
    know).
    """
    meta: Metadata = {
        "source": SOURCE,
        "statistic_id": statistic_id,
        "name": STATISTICS[statistic_id],
        "unit_of_measurement": "kWh",
        "has_sum": True,
        "has_mean": False,
    }
    if not legacy:
        meta["mean_type"] = 0
        meta["unit_class"] = "energy"
    return meta


def hourly_wh(rows: Iterable[sunpower.Interval]) -> dict[datetime.datetime, dict[str, float]]:
    """Wh per hour and statistic, from the library's hourly totals (:func:`sunpower.hourly_energy`:
    the top of the local hour in UTC, each interval's latest revision once). Intervals without a
    meter report add nothing to the meter's statistics (consumption, import, export)."""
    return {
        hour["start"]: {
            f"{SOURCE}:energy_production": hour["production_wh"],
            f"{SOURCE}:energy_consumption": hour["consumption_wh"],
            f"{SOURCE}:grid_import": hour["grid_import_wh"],
            f"{SOURCE}:grid_export": hour["grid_export_wh"],
        }
        for hour in sunpower.hourly_energy(rows)
    }


def build_statistics(
    rows: Iterable[sunpower.Interval],
    start_sums: Mapping[str, float] | None = None,
    *,
    legacy_metadata: bool = False,
) -> list[tuple[Metadata, list[Row]]]:
    """``(metadata, rows)`` for each statistic; rows hourly, in order, ``start`` aware (UTC).

    ``state`` is the hour's energy and ``sum`` the running total in kWh, from
    ``start_sums[statistic_id]`` (0 when not given). Both are rounded to the Wh; ``sum`` is the
    rounded exact running total, so it never decreases.
    """
    hours = hourly_wh(rows)
    out: list[tuple[Metadata, list[Row]]] = []
    for statistic_id in STATISTICS:
        total_kwh = float((start_sums or {}).get(statistic_id, 0.0))
        series: list[Row] = []
        for start in sorted(hours):
            kwh = hours[start][statistic_id] / 1000.0
            total_kwh += kwh
            series.append({"start": start, "state": round(kwh, 3), "sum": round(total_kwh, 3)})
        out.append((metadata(statistic_id, legacy=legacy_metadata), series))
    return out


def to_json(statistics: Sequence[Tuple[Metadata, List[Row]]]) -> str:
    """The statistics as JSON: one object per statistic, its metadata keys and ``stats`` (the
    rows, ``start`` as an ISO 8601 string), the shape of ``recorder.import_statistics``'s data."""
    doc = [
        {**meta, "stats": [{**row, "start": row["start"].isoformat()} for row in series]}
        for meta, series in statistics
    ]
    return json.dumps(doc, indent=2)


def default_tz() -> str:
    tz = os.environ.get("TZ", "").lstrip(":")
    for prefix in ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/"):
        if tz.startswith(prefix):
            tz = tz[len(prefix) :]
    return tz or "UTC"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ha_statistics.py",
        description="Hourly Home Assistant long-term statistics (kWh) from a SunPower capture; "
        "prints them as JSON.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="CAPTURE",
        help="pcap/pcapng file(s), gzip allowed; several files are one rotated capture; "
        "'-' reads standard input to its end",
    )
    parser.add_argument(
        "--tz",
        default=default_tz(),
        help="the system's IANA time zone (default: $TZ, else UTC)",
    )
    parser.add_argument(
        "--start-sums",
        metavar="JSON",
        help='running totals to continue from, e.g. \'{"sunpower:energy_production": 1234.5}\'',
    )
    parser.add_argument(
        "--legacy-metadata",
        action="store_true",
        help="metadata without mean_type and unit_class (older Home Assistant versions)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start_sums: dict[str, float] = {}
    if args.start_sums:
        try:
            given = json.loads(args.start_sums)
            if not isinstance(given, dict):
                raise ValueError("not a JSON object")
            start_sums = {str(k): float(v) for k, v in given.items()}
        except ValueError as err:
            print(f"ha_statistics: --start-sums: {err}", file=sys.stderr)
            return 2
        unknown = set(start_sums) - set(STATISTICS)
        if unknown:
            print(f"ha_statistics: --start-sums: unknown {sorted(unknown)}", file=sys.stderr)
            return 2
    if "-" in args.inputs and len(args.inputs) > 1:
        print("ha_statistics: '-' (standard input) cannot be mixed with files", file=sys.stderr)
        return 2
    try:
        acc = sunpower.Intervals(tz=args.tz)
    except ValueError as err:
        print(f"ha_statistics: {err}", file=sys.stderr)
        return 2
    sources = [sys.stdin.buffer if name == "-" else name for name in args.inputs]
    try:
        for post in sunpower.read_capture(*sources):
            acc.extend(post.records)
    except sunpower.CaptureError as err:
        print(f"ha_statistics: {err}", file=sys.stderr)
        return 1
    statistics = build_statistics(
        acc.finish(), start_sums, legacy_metadata=args.legacy_metadata
    )
    print(to_json(statistics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
