"""Intervals: the Rust accumulator's behaviour, from Python."""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path

import pytest

import sunpower
from conftest import REPO

SAMPLE = REPO / "examples" / "sample.pcap"
LINES = [
    "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3",
    "130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3",
]
UTC = datetime.timezone.utc


def test_energy_of_an_interval_is_the_counter_step() -> None:
    acc = sunpower.Intervals(tz="America/Los_Angeles")
    acc.extend(sunpower.parse_line(line) for line in LINES)
    rows = acc.finish()
    assert len(rows) == 2
    row = rows[1]
    assert row.production_wh == 25.0
    assert row.production_w == 300.0
    assert row.interval_start == datetime.datetime(2026, 6, 1, 17, 5, tzinfo=UTC)
    assert row.interval_end == datetime.datetime(2026, 6, 1, 17, 10, tzinfo=UTC)
    assert row.interval_start_local.utcoffset() == datetime.timedelta(hours=-7)
    assert row.interval_start_local == row.interval_start
    assert row.consumption_wh is None and row.net_source == "none"
    assert "first_report" in rows[0].flags
    assert row.to_dict()["interval_start_local"] == "2026-06-01T10:05:00-07:00"
    assert repr(row) == (
        "Interval(2026-06-01T17:05:00Z, production_wh=25.0, consumption_wh=None, net_wh=None)"
    )
    assert acc.cadence == datetime.timedelta(minutes=5)
    assert acc.tz == "America/Los_Angeles"


def test_add_says_what_became_of_a_record() -> None:
    acc = sunpower.Intervals()
    inv = sunpower.parse_line(LINES[0])
    assert acc.add(inv) == "stored"
    assert acc.add(inv) == "duplicate"
    assert acc.add(sunpower.parse_line("102\tabc")) == "ignored"
    assert acc.stats["records"] == 3
    with pytest.raises(TypeError):
        acc.add("130\t...")  # type: ignore[call-overload]


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="time zone"):
        sunpower.Intervals(tz="Mars/Olympus")
    with pytest.raises(ValueError, match="cadence"):
        sunpower.Intervals(cadence=datetime.timedelta(0))


def test_streaming_emits_intervals_as_the_clock_passes() -> None:
    acc = sunpower.Intervals(streaming=True, lateness=datetime.timedelta(minutes=1))
    acc.extend(sunpower.parse_line(line) for line in LINES)
    ready = acc.advance_to(datetime.datetime(2026, 6, 1, 18, 0, tzinfo=UTC))
    assert [r.production_wh for r in ready] == [0.0, 25.0]
    assert acc.finish() == []


@pytest.mark.skipif(not SAMPLE.exists(), reason="examples/sample.pcap not in this tree")
def test_rows_equal_sunpower_intervals_on_the_sample_capture(sunpower_cli: Path) -> None:
    tz = "America/Los_Angeles"
    out = subprocess.run(
        [str(sunpower_cli), "intervals", str(SAMPLE), "--format", "jsonl", "--tz", tz],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.splitlines()
    acc = sunpower.Intervals(tz=tz)
    for p in sunpower.read_capture(SAMPLE):
        acc.extend(p.records)
    rows = [r.to_dict() for r in acc.finish()]
    assert len(rows) == len(out) == 288
    assert rows == [json.loads(line) for line in out]
