"""Intervals: the Rust accumulator's behaviour, from Python."""

from __future__ import annotations

import ast
import datetime
import math
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


def test_the_attributes_stubs_dicts_arrow_and_csv_columns_are_the_core_library_s_column_list(
    tmp_path: Path,
) -> None:
    """An interval row's columns are described once, in the Rust library: `Interval` has each as
    an attribute, the stubs as a property (in that order, nothing more), `to_dict()` has them
    as keys in that order, and so do the Arrow batches and the tree's CSV header."""
    fields = sunpower.interval_fields()
    names = [name for name, _, _ in fields]
    assert fields[0] == ("interval_start", "time", None)
    assert ("production_wh", "decimal", "Wh") in fields
    assert names[11:] == ["flags", "battery_wh", "battery_soc_pct"]
    assert fields[-1] == ("battery_soc_pct", "decimal", "%")
    acc = sunpower.Intervals(tz="America/Los_Angeles")
    acc.extend(sunpower.parse_line(line) for line in LINES)
    row = acc.finish()[1]
    assert list(row.to_dict()) == names
    assert [name for name in names if not hasattr(row, name)] == []
    stub = ast.parse((REPO / "sunpower-py" / "python" / "sunpower" / "_sunpower.pyi").read_text())
    cls = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Interval")
    properties = [
        f.name
        for f in cls.body
        if isinstance(f, ast.FunctionDef)
        and any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list)
    ]
    assert properties == names
    acc = sunpower.Intervals(tz="America/Los_Angeles")
    acc.extend(sunpower.parse_line(line) for line in LINES)
    assert acc.finish_arrow().columns == names
    sunpower.write_tree(tmp_path, [row])
    header = (tmp_path / "2026" / "06" / "01.csv").read_text().splitlines()[0]
    assert header.split(",") == names



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


def _backlog(directory: Path) -> tuple[list[Path], float]:
    """Ten days of a 6-panel home's posts with a consumption meter, one body a day, and the
    energy the panels produced over them (Wh, from the lifetime counters as written)."""
    start = datetime.datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    energy = [100.0 + 10 * panel for panel in range(6)]
    net = 5000.0
    written: dict[int, list[float]] = {panel: [] for panel in range(6)}
    paths = []
    for day in range(10):
        lines = [f"100\tSPMS\t10\tZT01\t{(start + datetime.timedelta(days=day)).strftime('%Y%m%d%H%M%S')}"]
        for step in range(288):
            t = start + datetime.timedelta(days=day, minutes=5 * step)
            stamp = t.strftime("%Y%m%d%H%M%S")
            # Daylight from 14:00 to 02:00 UTC (07:00 to 19:00 in California).
            hour = (t.hour - 14) % 24 + t.minute / 60
            power = 0.3 * max(0.0, math.sin(math.pi * hour / 12)) if hour < 12 else 0.0
            for panel in range(6):
                energy[panel] += power * (1 + panel / 20) * 5 / 60
                text = f"{energy[panel]:.4f}"
                written[panel].append(float(text))
                lines.append(f"130\t{stamp}\tINV{panel}\tAC_Module_Type_C\t\t{text}\t{power:.4f}")
            net += 0.4 * 5 / 60 - power * 6 * 5 / 60
            lines.append(f"140\t{stamp}\tPVS6M0001c\tPVS6M0400c\t1\t{net:.4f}\t0.1")
        lines.append("102\t51oeIKDhOUeah8+9ZCME")
        path = directory / f"day{day}.txt"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    produced = sum(w[-1] - w[0] for w in written.values()) * 1000
    return paths, produced


def test_cli_and_python_give_the_same_intervals_on_an_out_of_order_backlog(
    sunpower_cli: Path, tmp_path: Path
) -> None:
    """One policy, in the library: ten days of bodies given with the last five days first give
    the same intervals from the command and from `Intervals()` (both every interval, none refused
    as too old)."""
    tz = "America/Los_Angeles"
    days, produced = _backlog(tmp_path)
    order = days[5:] + days[:5]
    args = [str(sunpower_cli), "intervals", "--format", "jsonl", "--tz", tz]
    for path in order:
        args += ["--body", str(path)]
    out = subprocess.run(args, capture_output=True, check=True, text=True).stdout.splitlines()
    acc = sunpower.Intervals(tz=tz)
    for path in order:
        acc.extend(sunpower.parse_body(path.read_bytes()))
    rows = [r.to_dict() for r in acc.finish()]
    assert rows == [json.loads(line) for line in out]
    # Every 5-minute interval of the ten days.
    assert len(rows) == 10 * 288
    assert acc.stats["beyond_horizon"] == 0
    assert math.isclose(sum(r["production_wh"] for r in rows), produced, rel_tol=1e-9)


def _sample_inputs() -> list[tuple[str, Path]]:
    """Every sample the repository holds that gives records: (the command's option, file)."""
    data = REPO / "sunpower-proto" / "tests" / "data"
    inputs = [("capture", SAMPLE), ("--body", REPO / "examples" / "bodies" / "forum-2017-body.txt")]
    inputs += [("--devicelist", p) for p in sorted((data / "devicelist").glob("*.json"))]
    for path in sorted((data / "local-api").glob("*.json")):
        inputs.append(("--devicelist" if "devicelist" in path.name else "--vars", path))
    return [(option, path) for option, path in inputs if path.exists()]


def _python_items(
    option: str, path: Path
) -> list[sunpower.Record | sunpower.SiteTotals | sunpower.Vars | sunpower.DeviceList]:
    """What Python reads from the file, as a user feeding `Intervals` would: nothing when the
    document is refused (the command then prints no interval either)."""
    if option == "capture":
        return [r for post in sunpower.read_capture(path) for r in post.records]
    if option == "--body":
        return list(sunpower.parse_body(path.read_bytes()))
    try:
        if option == "--devicelist":
            # The document whole: its records, then its batteries.
            return [sunpower.parse_device_list(path.read_bytes())]
        return [sunpower.parse_vars(path.read_bytes())]
    except ValueError:
        return []


@pytest.mark.parametrize("option,path", _sample_inputs(), ids=lambda v: getattr(v, "name", v))
def test_cli_and_python_give_the_same_intervals_on_every_sample(
    sunpower_cli: Path, option: str, path: Path
) -> None:
    """One policy, in the library: the command and `Intervals()` give the same rows for every
    sample, whatever its source (the presets are the library's, not the front ends')."""
    tz = "America/Los_Angeles"
    args = [str(sunpower_cli), "intervals", "--format", "jsonl", "--tz", tz]
    args += [str(path)] if option == "capture" else [option, str(path)]
    out = subprocess.run(args, capture_output=True, text=True).stdout.splitlines()
    acc = sunpower.Intervals(tz=tz)
    acc.extend(_python_items(option, path))
    rows = [r.to_dict() for r in acc.finish()]
    assert rows == [json.loads(line) for line in out]
    # Not empty everywhere: the samples with readings give intervals.
    if path.name in ("sample.pcap", "pvs6_2019.json", "pvs6-61845-varserver-dump.json"):
        assert rows, path


def test_write_tree_after_finish_says_the_intervals_were_handed_out(tmp_path: Path) -> None:
    """`finish()` hands every interval out; a `write_tree()` after it has nothing to write, and
    says so instead of writing nothing."""
    acc = sunpower.Intervals(tz="UTC")
    acc.extend(sunpower.parse_line(line) for line in LINES)
    rows = acc.finish()
    with pytest.raises(ValueError, match="nothing to write: .*2 intervals were handed out"):
        acc.write_tree(tmp_path / "tree")
    assert not (tmp_path / "tree").exists()
    # Written from the rows handed out, they are all there.
    assert sunpower.write_tree(tmp_path / "tree", rows)["inserted"] == 2
    # Told once: a write_tree with nothing new after that is an empty write again.
    assert acc.write_tree(tmp_path / "tree")["files"] == 0


def test_interval_events_are_logged_at_most_100_of_a_kind_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As the command shows them: 250 conflicting duplicates give 100 messages and a count."""
    import logging

    t0 = 1_751_083_200
    acc = sunpower.Intervals()
    for s in range(250):
        for extra in (0.0, 0.0001):
            frame = json.dumps(
                {"notification": "power", "params": {"time": t0 + s, "pv_en": 500.0 + s / 1000 + extra}}
            )
            site = sunpower.parse_telemetry(frame)
            assert site is not None
            acc.add(site)
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        acc.finish()
    conflicts = [m for m in caplog.messages if "conflicting duplicate of" in m]
    assert len(conflicts) == 100
    assert "150 more conflicting duplicate problems not shown" in caplog.messages
