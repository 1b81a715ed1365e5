"""sunpower.Health: the library's health findings, the same as `sunpower health`'s."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

import sunpower


def generated_body(zero_serial: str = "INV3") -> str:
    """A sunny day of four inverters every five minutes from 08:00 to 16:00 UTC, one of them at
    0 kW all day, and a header line with each post's time so the supervisor is seen reporting."""
    lines = []
    start = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.timezone.utc)
    energy = {f"INV{i}": 100.0 for i in range(4)}
    for step in range(97):
        t = start + dt.timedelta(minutes=5 * step)
        stamp = t.strftime("%Y%m%d%H%M%S")
        lines.append(f"100\tSPMS\t10\tZT01\t{stamp}")
        for serial in energy:
            kw = 0.0 if serial == zero_serial else 0.3
            energy[serial] += kw / 12
            lines.append(f"130\t{stamp}\t{serial}\tAC_Module_Type_C\t\t{energy[serial]:.4f}\t{kw}")
    return "\n".join(lines) + "\n"


def test_a_dead_inverter_is_found_with_its_evidence_and_the_command_agrees(
    sunpower_cli: Path, tmp_path: Path
) -> None:
    body = generated_body()
    health = sunpower.Health(tz="UTC")
    health.extend(sunpower.parse_body(body))
    findings = health.finish()
    assert [(f.kind, f.status, f.serial) for f in findings] == [("reporting_zero", "fault", "INV3")]
    finding = findings[0]
    assert finding.severity == "critical" and finding.record_type == 130
    assert finding.produced_kw == 0.0 and finding.peers_median_kw == pytest.approx(0.3)
    assert finding.samples >= 90
    assert finding.evidence_text.startswith(f"0 kW in {finding.samples} daylight samples")
    assert finding.start.tzinfo is not None and finding.start < finding.end
    assert "reporting_zero fault on 130 INV3" in str(finding)
    # The command, on the same body: the same findings, key for key.
    path = tmp_path / "body.txt"
    path.write_text(body)
    out = subprocess.run(
        [str(sunpower_cli), "health", "--body", str(path), "--tz", "UTC", "--format", "jsonl"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [json.loads(line) for line in out] == [f.to_dict() for f in findings]


def test_a_healthy_day_has_no_findings_and_bad_items_are_refused() -> None:
    health = sunpower.Health(tz="America/Los_Angeles")
    health.extend(sunpower.parse_body(generated_body(zero_serial="none")))
    assert health.finish() == []
    with pytest.raises(TypeError, match="Record, Vars, DeviceList, SiteTotals or Battery"):
        health.add("130\tline")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time zone"):
        sunpower.Health(tz="Mars/Olympus")


def test_telemetry_site_totals_give_the_stream_s_silence_as_a_gap(
    sunpower_cli: Path, tmp_path: Path
) -> None:
    """A frame a second from 08:00 to 10:00 UTC and from 14:00 to 15:00: one gap and its
    recovery, as `sunpower health --telemetry` finds them."""
    start = int(dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.timezone.utc).timestamp())
    frames = "".join(
        '{"notification":"power","params":{"time":%d,"pv_p":"1.8","pv_en":"%.4f"}}\n'
        % (start + s, 1000 + s * 0.0005)
        for s in [*range(2 * 3600), *range(6 * 3600, 7 * 3600)]
    )
    decoder = sunpower.TelemetryDecoder()
    health = sunpower.Health(tz="UTC")
    health.extend(decoder.feed(frames.encode()) + decoder.finish())
    findings = health.finish()
    assert [(f.kind, f.status) for f in findings] == [("gap", "fault"), ("gap", "recovered")]
    gap = findings[0]
    assert gap.serial is None
    assert (gap.start, gap.end) == (
        dt.datetime(2026, 6, 1, 9, 59, tzinfo=dt.timezone.utc),
        dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.timezone.utc),
    )
    path = tmp_path / "telemetry.jsonl"
    path.write_text(frames)
    out = subprocess.run(
        [str(sunpower_cli), "health", "--telemetry", str(path), "--tz", "UTC", "--format", "jsonl"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [json.loads(line) for line in out] == [f.to_dict() for f in findings]


def test_finish_arrow_equals_the_findings() -> None:
    pa = pytest.importorskip("pyarrow")
    body = generated_body()
    rows, columnar = sunpower.Health(tz="UTC"), sunpower.Health(tz="UTC")
    rows.extend(sunpower.parse_body(body))
    columnar.extend(sunpower.parse_body(body))
    expected = [f.to_dict() for f in rows.finish()]
    x = columnar.finish_arrow()
    assert x.record_type is None
    table = pa.table(x)
    assert table.column_names == list(expected[0].keys())
    got = table.to_pylist()
    assert len(got) == len(expected) == 1
    for key, value in expected[0].items():
        if key in ("start", "end"):
            # An RFC 3339 string in the dict, a timestamp column in Arrow.
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        assert got[0][key] == value, key
    # Nothing left: an empty table of the same columns.
    assert pa.table(columnar.finish_arrow()).num_rows == 0


def vars_poll(poll: int, soh: float | None) -> str:
    """A `/vars` document of poll `poll` (every five minutes from 08:00 UTC): the supervisor's
    flash worn to 90 % of its life, an inverter, and the battery's state of health when it
    answers (a fraction, as the varserver sends it)."""
    t = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=5 * poll)
    eps = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "/sys/info/serialnum": "ZT01",
        "/sys/pvs/flashwear_type_b": "0x09",
        "/sys/livedata/time": str(int(t.timestamp())),
        "/sys/devices/inverter/0/sn": "E001",
        "/sys/devices/inverter/0/msmtEps": eps,
        "/sys/devices/inverter/0/p3phsumKw": "0.2",
    }
    if soh is not None:
        doc |= {
            "/sys/devices/ess/0/sn": "BC1",
            "/sys/devices/ess/0/msmtEps": eps,
            "/sys/devices/ess/0/sohVal": str(soh),
        }
    return json.dumps(doc)


def test_vars_give_flash_wear_and_a_falling_battery_state_of_health() -> None:
    health = sunpower.Health(tz="UTC")
    # 96 % for 20 polls, then 89 %: 7 points under its best.
    for poll in range(40):
        health.add(sunpower.parse_vars(vars_poll(poll, 0.96 if poll < 20 else 0.89)))
    findings = health.finish()
    assert [(f.kind, f.status, f.serial) for f in findings] == [
        ("flash_wear", "fault", "ZT01"),
        ("battery_soh_falling", "fault", "BC1"),
    ]
    wear, soh = findings
    assert (wear.value, wear.record_type, wear.severity) == (90.0, 120, "warning")
    assert (soh.value, soh.record_type, soh.samples) == (89.0, 0, 3)
    assert soh.start == dt.datetime(2026, 6, 1, 9, 40, tzinfo=dt.timezone.utc)
    assert soh.evidence_text == "state of health down to 89%, in 3 readings"
