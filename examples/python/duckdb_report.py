#!/usr/bin/env python3
"""Daily production per panel, and the panels that fall behind, with DuckDB over a Parquet
dataset of decoded records.

The dataset is the Hive layout ``sunpower decode --format parquet --output DIR`` writes
(``DIR/record_type=130/part-00000.parquet``, the record type in the path only), as
``spark_decode.py`` writes it too. DuckDB reads the inverters' partition as one table:

    SELECT * FROM read_parquet('DIR/record_type=130/*.parquet', hive_partitioning = true)

(``DIR/*/*.parquet`` with ``union_by_name = true`` reads every type at once: their columns
differ). Given captures after DIR, the script first builds DIR from them: with the ``sunpower``
command when it was built with Parquet support (``--features parquet``), else with the package's
``sunpower.read_capture(...).write_parquet(DIR)`` (the same library writer, the same files), so
a ``pip install sunpower duckdb`` is all it needs.

    python duckdb_report.py --tz America/Los_Angeles decoded/                 # a dataset
    python duckdb_report.py --tz America/Los_Angeles decoded/ capture.pcap    # build it first
    python duckdb_report.py decoded/ capture.pcap capture.pcap1               # a rotated set

Energy per panel per day follows PROTOCOL.md, "Energy from the records": each report's rise of
the inverter's lifetime counter (``lifetime_energy_kwh``) since its previous report counts in the
local day (``--tz``) of the report's timestamp, the start of the interval it sums up. A first
report counts nothing, nor does a counter that goes down (a reset: counting resumes from the new
value); a report seen twice (same serial and timestamp, a replay or an overlapping capture)
counts once, the first captured. So the panels of a day add up to that day's ``production_wh``
of ``sunpower intervals`` (which besides holds a counter's small dips, jitter, until it rises
past them again). Integrating ``ac_power_kw`` instead would miss the energy of missed reports
and depends on how power was sampled: the counter is the measurement.

An underperformer is a panel whose energy on a day is below ``--threshold`` (default 0.8) of the
median of that day's panels. A panel that has reported before and sends nothing on a day the
others produce counts 0 Wh (0 reports), so a dead micro-inverter shows up.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb

import sunpower

PARTITION = "record_type={}"

# One reading per (serial, timestamp), the first captured; then each reading's rise.
STEPS = """
WITH records AS (
    SELECT serial,
           -- Parquet from Spark's default INT96 comes as a naive TIMESTAMP: UTC (SET below).
           CAST("timestamp" AS TIMESTAMPTZ) AS ts,
           lifetime_energy_kwh AS kwh,
           captured_at
    FROM read_parquet($files, hive_partitioning = true)
    WHERE serial IS NOT NULL AND "timestamp" IS NOT NULL AND lifetime_energy_kwh IS NOT NULL
),
readings AS (
    SELECT serial, ts, arg_min(kwh, captured_at) AS kwh FROM records GROUP BY serial, ts
),
steps AS (
    SELECT serial, ts, kwh - lag(kwh) OVER (PARTITION BY serial ORDER BY ts) AS step
    FROM readings
)
"""

# A panel's energy per local day: the sum of its counter's rises (a drop counts nothing).
PER_DAY = """
SELECT CAST(timezone($tz, ts) AS DATE) AS day,
       serial,
       round(coalesce(sum(greatest(step, 0)), 0) * 1000, 3) AS energy_wh,
       count(*) AS reports
FROM steps
GROUP BY ALL
"""

DAILY = STEPS + PER_DAY + "ORDER BY day, serial\n"

UNDERPERFORMERS = STEPS + """,
daily AS (""" + PER_DAY + """),
first_days AS (SELECT serial, min(day) AS first_day FROM daily GROUP BY serial),
producing AS (SELECT day FROM daily GROUP BY day HAVING sum(energy_wh) > 0),
panel_days AS (
    -- Every panel seen by then, each producing day: silent panels count 0.
    SELECT p.day, f.serial,
           coalesce(d.energy_wh, 0) AS energy_wh, coalesce(d.reports, 0) AS reports
    FROM producing p
    JOIN first_days f ON f.first_day <= p.day
    LEFT JOIN daily d ON d.day = p.day AND d.serial = f.serial
),
ranked AS (
    SELECT *, median(energy_wh) OVER (PARTITION BY day) AS median_wh FROM panel_days
)
SELECT day, serial, energy_wh, median_wh, energy_wh / median_wh AS ratio, reports
FROM ranked
WHERE median_wh > 0 AND energy_wh < $threshold * median_wh
ORDER BY day, ratio, serial
"""


@dataclass(frozen=True)
class PanelDay:
    """A panel's energy on one local day."""

    day: datetime.date
    serial: str
    energy_wh: float
    reports: int


@dataclass(frozen=True)
class Underperformer:
    """A panel below the threshold on a day: its energy, the day's median, their ratio."""

    day: datetime.date
    serial: str
    energy_wh: float
    median_wh: float
    ratio: float
    reports: int


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # Naive timestamps (Spark's INT96) are UTC, as every timestamp of the records.
    con.execute("SET TimeZone = 'UTC'")
    return con


def inverter_files(dataset: str | os.PathLike[str]) -> str:
    """The glob of the inverters' (130) partition; an error when it has no file."""
    directory = Path(dataset) / PARTITION.format(130)
    if not any(directory.glob("*.parquet")):
        raise FileNotFoundError(f"{directory}: no Parquet file of inverter records (130)")
    return str(directory / "*.parquet")


def daily_per_panel(
    con: duckdb.DuckDBPyConnection, dataset: str | os.PathLike[str], tz: str
) -> list[PanelDay]:
    """Energy per inverter per local day of ``tz``, in day and serial order."""
    rows = con.execute(DAILY, {"files": inverter_files(dataset), "tz": tz}).fetchall()
    return [PanelDay(day, serial, float(wh), int(n)) for day, serial, wh, n in rows]


def underperformers(
    con: duckdb.DuckDBPyConnection,
    dataset: str | os.PathLike[str],
    tz: str,
    threshold: float = 0.8,
) -> list[Underperformer]:
    """The panel-days below ``threshold`` times the day's median, lowest ratio first."""
    params = {"files": inverter_files(dataset), "tz": tz, "threshold": threshold}
    rows = con.execute(UNDERPERFORMERS, params).fetchall()
    return [
        Underperformer(day, serial, float(wh), float(median), float(ratio), int(n))
        for day, serial, wh, median, ratio, n in rows
    ]


# Building the dataset -------------------------------------------------------------------------


def build_with_package(captures: Sequence[str], dataset: str | os.PathLike[str]) -> int:
    """``sunpower decode --format parquet --output dataset captures...`` from Python: the same
    library writer (``read_capture(...).write_parquet``), so the same files; like the command,
    it refuses a directory that is not empty (``OSError``). Returns the number of files
    written."""
    return sunpower.read_capture(*captures).write_parquet(dataset)


def build_with_cli(cli: str, captures: Sequence[str], dataset: str | os.PathLike[str]) -> bool:
    """The dataset written by the ``sunpower`` command; ``False`` when that command was built
    without Parquet support (it says so and exits with status 2)."""
    command = [cli, "decode", "--format", "parquet", "--output", str(dataset), *captures]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode == 2 and "without Parquet support" in done.stderr:
        return False
    if done.returncode != 0:
        raise RuntimeError(f"{cli} decode: {done.stderr.strip()}")
    return True


def build(
    captures: Sequence[str], dataset: str | os.PathLike[str], builder: str, cli: str
) -> str:
    """Builds the dataset; says which builder did."""
    if builder in ("auto", "cli"):
        found = shutil.which(cli)
        if found is not None and build_with_cli(found, captures, dataset):
            return f"{found} decode --format parquet"
        if builder == "cli":
            raise RuntimeError(f"{cli}: not found, or built without Parquet support")
    build_with_package(captures, dataset)
    return "the sunpower package (read_capture(...).write_parquet)"


# The report -----------------------------------------------------------------------------------


def print_report(
    days: list[PanelDay], weak: list[Underperformer], tz: str, threshold: float
) -> None:
    print(f"Daily production per panel ({tz})")
    print(f"{'day':<10}  {'serial':<20}  {'kWh':>8}  {'reports':>7}")
    for d in days:
        kwh = d.energy_wh / 1000
        print(f"{d.day.isoformat():<10}  {d.serial:<20}  {kwh:>8.3f}  {d.reports:>7}")
    print()
    print(f"Underperformers: below {threshold:.0%} of the day's median")
    if not weak:
        print("(none)")
        return
    print(f"{'day':<10}  {'serial':<20}  {'kWh':>8}  {'median':>8}  {'ratio':>6}  {'reports':>7}")
    for w in weak:
        print(
            f"{w.day.isoformat():<10}  {w.serial:<20}  {w.energy_wh / 1000:>8.3f}  "
            f"{w.median_wh / 1000:>8.3f}  {w.ratio:>6.1%}  {w.reports:>7}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", help="Parquet dataset directory (written first if captures follow)")
    p.add_argument("captures", nargs="*", help="captures to build the dataset from (one set)")
    p.add_argument("--tz", default=os.environ.get("TZ") or "UTC", help="IANA zone of the days")
    p.add_argument("--threshold", type=float, default=0.8, help="fraction of the day's median")
    p.add_argument(
        "--builder",
        choices=("auto", "cli", "package"),
        default="auto",
        help="who writes the dataset: the sunpower command if it has Parquet (auto), or the "
        "sunpower package",
    )
    p.add_argument("--cli", default="sunpower", help="the sunpower command (default: on PATH)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0 < args.threshold <= 1:
        print("duckdb_report: --threshold must be in (0, 1]", file=sys.stderr)
        return 2
    try:
        if args.captures:
            how = build(args.captures, args.dataset, args.builder, args.cli)
            print(f"duckdb_report: {args.dataset} written by {how}", file=sys.stderr)
        con = connect()
        days = daily_per_panel(con, args.dataset, args.tz)
        weak = underperformers(con, args.dataset, args.tz, args.threshold)
    except (OSError, RuntimeError, duckdb.Error) as err:
        print(f"duckdb_report: {err}", file=sys.stderr)
        return 1
    print_report(days, weak, args.tz, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
