"""parse_vars, parse_supervisor_info, parse_telemetry and TelemetryDecoder: the local API of
current supervisors, as the same records and site totals as the `sunpower` command.

The samples are the public documents copied under sunpower-proto/tests/data/local-api (sources
in its README.txt): a PVS6 build 61845 `/vars` dump (steveturbek/SunPower-PVS-Supervisor) and the
examples of SunStrong-Management/pypvs doc/LocalAPI.md (build 61840). The other documents are
built here.
"""

from __future__ import annotations

import datetime
import json
import logging
import pickle
import subprocess
import warnings
from pathlib import Path
from typing import Any, Iterable

import pytest

import sunpower
from conftest import REPO

SAMPLES = REPO / "sunpower-proto" / "tests" / "data" / "local-api"
DUMP = SAMPLES / "pvs6-61845-varserver-dump.json"
BATTERY = SAMPLES / "pypvs-doc-61840-livedata-with-battery.json"
UTC = datetime.timezone.utc
VARS_SAMPLES = sorted(p for p in SAMPLES.glob("*.json") if "dl_cgi" not in p.name)


def cli_lines(cli: Path, *args: str, stdin: bytes | None = None) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(cli), *args], input=stdin, capture_output=True, check=True
    ).stdout.decode()
    return [json.loads(line) for line in out.splitlines()]


def python_lines(vars: sunpower.Vars) -> list[dict[str, Any]]:
    """What `sunpower vars` prints, from the Python objects: records, batteries, transfer
    switches, supervisor, health, site."""
    lines = [r.to_dict() for r in vars.records]
    lines += [b.to_dict() for b in vars.batteries]
    lines += [s.to_dict() for s in vars.transfer_switches]
    if vars.supervisor is not None:
        lines.append(vars.supervisor.to_dict())
    if vars.health is not None:
        lines.append(vars.health.to_dict())
    if vars.site is not None:
        lines.append(vars.site.to_dict())
    return lines


@pytest.mark.parametrize("sample", VARS_SAMPLES, ids=lambda p: p.name)
def test_samples_give_what_the_command_prints_key_for_key(sunpower_cli: Path, sample: Path) -> None:
    theirs = cli_lines(sunpower_cli, "vars", str(sample))
    ours = python_lines(sunpower.parse_vars(sample.read_bytes()))
    assert theirs, sample
    assert ours == theirs
    assert [list(d) for d in ours] == [list(d) for d in theirs]  # the same keys in order
    # Every object says what it is first, the same way: records their number, the others a name.
    assert all(list(d)[0] == "record_type" for d in ours)
    assert {d["record_type"] for d in ours if not isinstance(d["record_type"], int)} <= {
        "supervisor_info",
        "supervisor_health",
        "battery",
        "transfer_switch",
        "site_totals",
    }
    # str and bytes give the same.
    assert python_lines(sunpower.parse_vars(sample.read_text())) == ours


def test_the_61845_dump_decodes_to_the_values_it_holds() -> None:
    vars = sunpower.parse_vars(DUMP.read_bytes())
    doc: dict[str, str] = json.loads(DUMP.read_text())
    inverters = sorted(
        {int(k.split("/")[4]) for k in doc if k.startswith("/sys/devices/inverter/")}
    )
    records = vars.records
    assert len(vars) == len(records)
    # The production meter reports its per-leg values too (zeros): each meter has a 141.
    assert [r.record_type for r in records] == [130] * len(inverters) + [140, 141, 140, 141]
    for i, r in zip(inverters, records):
        path = f"/sys/devices/inverter/{i}/"
        assert r.serial == doc[path + "sn"]
        assert r.lifetime_energy_kwh == float(doc[path + "ltea3phsumKwh"])
        assert r.ac_power_kw == float(doc[path + "p3phsumKw"])
        assert r.dc_power_kw == float(doc[path + "pMppt1Kw"])
        assert r.timestamp == datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    production, production_legs, consumption, legs = records[-4:]
    assert production_legs.leg1_power_kw == 0.0
    assert production.meter_kind == "production" and production.serial == "PVS6M123456p"
    assert production.lifetime_net_energy_kwh == 27867.380859
    assert consumption.meter_kind == "consumption"
    assert consumption.lifetime_net_energy_kwh == 14116.269531
    assert consumption.import_energy_kwh == 33277.058594
    assert consumption.export_energy_kwh == 19160.759766
    assert consumption.to_dict()["import_energy_kwh"] == 33277.058594
    assert legs.leg1_power_kw == -1.023084 and legs.leg2_power_kw == -0.812595
    assert legs.leg1_voltage_v == 120.727631
    # Built from the document's values: no line, the source said.
    assert consumption.raw is None and consumption.source == "vars"
    assert consumption.to_dict()["source"] == "vars" and "raw" not in consumption.to_dict()

    info = vars.supervisor
    assert info is not None
    assert (info.model, info.software_version, info.build) == ("PVS6", "2025.09.04.61845", 61845)
    assert info.serial == "ZT0123456789A1234"
    assert (info.uptime_s, info.ram_usage_pct, info.flash_usage_pct) == (31371.7, 7.0, 73.0)
    assert info.system_type == "PV-only" and info.active_interface == "sta0"
    assert repr(info) == (
        "SupervisorInfo(model='PVS6', software_version='2025.09.04.61845', build=61845)"
    )

    site = vars.site
    assert site is not None
    assert site.timestamp == datetime.datetime(2025, 9, 30, 15, 58, 22, tzinfo=UTC)
    assert (site.pv_energy_kwh, site.net_energy_kwh) == (27867.650391, 14116.009766)
    assert site.site_load_energy_kwh == 41983.660156
    assert (site.battery_energy_kwh, site.battery_soc_pct, site.battery_power_kw) == (None, None, None)
    assert site.midstate == 0 and site.to_dict()["battery_soc_pct"] is None
    assert site.record_type == site.to_dict()["record_type"] == "site_totals"

    # ssid, wpa_key, lmac, active_interface_mac; the /net, /sys/toggle_cell... paths kept raw
    # (the meters' v12V and the flash wear are decoded).
    assert vars.withheld == 4
    assert vars.other_count == len(vars.other) == 11
    assert vars.health is not None and vars.health.flash_wear_pct == 100.0  # "0x0b"
    assert {r.line_voltage_v for r in vars.records if r.record_type == 140} == {207.579468}
    assert ("/sys/telemetryws/enable", "0") in vars.other
    assert vars.form == "object" and vars.entries == len(doc)
    assert vars.problems == () and vars.dropped == 0
    # Every inverter but one carries the author's placeholder serial.
    assert vars.shared_serials == 11
    assert repr(vars) == (
        f"Vars(object, {len(records)} records, supervisor, site, 11 other, 4 withheld)"
    )


def test_battery_livedata_sums_as_the_supervisor_does() -> None:
    site = sunpower.parse_vars(BATTERY.read_bytes()).site
    assert site is not None
    assert site.battery_soc_pct == 86.0 and site.battery_power_kw == 1.862
    assert site.pv_power_kw is not None and site.net_power_kw is not None
    assert site.site_load_power_kw == pytest.approx(
        site.pv_power_kw + site.net_power_kw + site.battery_power_kw, abs=1e-6
    )
    assert repr(site) == (
        "SiteTotals(2025-06-28T04:02:25Z, pv_energy_kwh=40747.871094, net_energy_kwh=6121.330078,"
        " site_load_energy_kwh=46378.734375, battery_energy_kwh=-490.463989, battery_soc_pct=86.0)"
    )


# Generated documents -------------------------------------------------------------------------

INVERTERS = ["E00122301000001", "E00122301000002", "E00122301000003"]


def device_fields(
    when: datetime.datetime, kwh: Iterable[float], net: float, imported: float, exported: float
) -> list[tuple[str, int, dict[str, str]]]:
    """(kind, index, fields) of three inverters and a consumption meter, values as strings."""
    eps = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    devices = [
        (
            "inverter",
            i,
            {
                "sn": sn,
                "prodMdlNm": "AC_Module_Type_E",
                "msmtEps": eps,
                "ltea3phsumKwh": f"{k:.6f}",
                "p3phsumKw": "0.250000",
                "vln3phavgV": "240.100006",
            },
        )
        for i, (sn, k) in enumerate(zip(INVERTERS, kwh))
    ]
    devices.append(
        (
            "meter",
            1,
            {
                "sn": "PVS6M22280001c",
                "prodMdlNm": "PVS6M0400c",
                "msmtEps": eps,
                "ctSclFctr": "100",
                "netLtea3phsumKwh": f"{net:.6f}",
                "posLtea3phsumKwh": f"{imported:.6f}",
                "negLtea3phsumKwh": f"{exported:.6f}",
                "p3phsumKw": "1.200000",
                "p1Kw": "0.600000",
                "p2Kw": "0.600000",
            },
        )
    )
    return devices


def flat(devices: list[tuple[str, int, dict[str, str]]], extra: dict[str, str]) -> dict[str, str]:
    doc = dict(extra)
    for kind, index, fields in devices:
        for name, value in fields.items():
            doc[f"/sys/devices/{kind}/{index}/{name}"] = value
    return doc


TEXT_FIELDS = ("sn", "prodMdlNm", "msmtEps")


def number(value: str) -> int | float:
    return int(value) if value.lstrip("-").isdigit() else float(value)


def nested(devices: list[tuple[str, int, dict[str, str]]]) -> dict[str, Any]:
    """The nested shape of the same devices: one object each, numbers as JSON numbers."""
    return {
        f"/sys/devices/{10 + n}/{kind}/data": {
            k: v if k in TEXT_FIELDS else number(v) for k, v in fields.items()
        }
        for n, (kind, _, fields) in enumerate(devices)
    }


def test_flat_nested_and_array_forms_give_the_same_records() -> None:
    when = datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    devices = device_fields(when, [100.5, 200.25, 300.125], 5000.5, 9000.25, 3999.75)
    # Values written as JSON writes the numbers, so that both shapes hold the same text.
    devices = [
        (kind, index, {k: v if k in TEXT_FIELDS else json.dumps(number(v)) for k, v in f.items()})
        for kind, index, f in devices
    ]
    by_flat = sunpower.parse_vars(json.dumps(flat(devices, {})))
    by_nested = sunpower.parse_vars(json.dumps(nested(devices)))
    as_array = {
        "values": [{"name": k, "value": v} for k, v in flat(devices, {}).items()],
        "count": len(flat(devices, {})),
    }
    by_array = sunpower.parse_vars(json.dumps(as_array).encode())
    assert by_array.form == "array" and by_flat.form == "object"
    expected = [r.to_dict() for r in by_flat.records]
    assert [r.record_type for r in by_flat.records] == [130, 130, 130, 140, 141]
    assert [r.to_dict() for r in by_array.records] == expected
    assert [r.to_dict() for r in by_nested.records] == expected
    assert by_nested.records == by_flat.records
    meter = by_flat.records[3]
    assert (meter.import_energy_kwh, meter.export_energy_kwh) == (9000.25, 3999.75)


def test_meter_records_pickle_with_their_import_and_export_counters() -> None:
    when = datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    devices = device_fields(when, [1.0, 2.0, 3.0], 10.0, 20.5, 10.5)
    meter = sunpower.parse_vars(json.dumps(flat(devices, {}))).records[3]
    again = pickle.loads(pickle.dumps(meter))
    assert again == meter and hash(again) == hash(meter)
    assert again.import_energy_kwh == 20.5 and again.export_energy_kwh == 10.5
    assert again.to_dict() == meter.to_dict()
    assert again.source == "vars" and again.raw is None
    other = sunpower.parse_vars(json.dumps(flat(device_fields(when, [1, 2, 3], 10, 21, 10), {})))
    assert other.records[3].lifetime_net_energy_kwh == meter.lifetime_net_energy_kwh
    assert other.records[3] != meter


def test_a_bad_value_costs_its_field_and_a_device_without_serial_is_a_problem(
    caplog: pytest.LogCaptureFixture,
) -> None:
    when = datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    doc = flat(device_fields(when, [1.0, 2.0, 3.0], 10.0, 20.0, 10.0), {})
    doc["/sys/devices/inverter/1/ltea3phsumKwh"] = "19.0x79"
    del doc["/sys/devices/inverter/2/sn"]
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        vars = sunpower.parse_vars(json.dumps(doc))
    inverters = [r for r in vars.records if r.record_type == 130]
    assert [r.serial for r in inverters] == INVERTERS[:2]
    assert inverters[1].lifetime_energy_kwh is None
    assert len(vars.problems) == 2
    bad, unnamed = vars.problems
    # Objects with the position and the kind; str() is the message, as logged.
    assert (bad.path, bad.kind, bad.field, bad.found) == (
        "/sys/devices/inverter/1",
        "invalid_value",
        "ltea3phsumKwh",
        "19.0x79",
    )
    assert (bad.device, bad.serial, bad.frame) == (None, None, None)
    assert str(bad).startswith("/sys/devices/inverter/1") and "19.0x79" in str(bad)
    assert isinstance(bad, sunpower.DocumentProblem)
    assert (unnamed.path, unnamed.kind, unnamed.field) == (
        "/sys/devices/inverter/2",
        "missing_serial",
        "sn",
    )
    assert "no sn" in str(unnamed) and unnamed != bad
    assert [str(p) for p in vars.problems] == caplog.messages


@pytest.mark.parametrize(
    "doc", [b"not json", b"[1, 2]", "{\"a\": ".encode()], ids=["text", "array", "cut"]
)
def test_a_document_that_is_not_a_vars_object_raises_decode_error(doc: bytes) -> None:
    with pytest.raises(sunpower.DecodeError):
        sunpower.parse_vars(doc)
    with pytest.raises(TypeError):
        sunpower.parse_vars(42)  # type: ignore[arg-type]


def test_supervisor_info_document() -> None:
    doc = {
        "result": "succeed",
        "supervisor": {
            "MODEL": "PVS6",
            "SERIAL": "ZT01234567890ABCDEF",
            "SWVER": "2021.9, Build 41001",
            "BUILD": 41001,
            "SCVER": 16504,
        },
    }
    info = sunpower.parse_supervisor_info(json.dumps(doc))
    assert (info.model, info.serial, info.build) == ("PVS6", "ZT01234567890ABCDEF", 41001)
    assert info.other == (("SCVER", "16504"),)
    assert info.to_dict()["record_type"] == info.record_type == "supervisor_info"
    assert info.to_dict()["other"] == [{"path": "SCVER", "value": "16504", "truncated": False}]
    assert info == sunpower.parse_supervisor_info(json.dumps(doc).encode())
    with pytest.raises(sunpower.DecodeError, match="failed"):
        sunpower.parse_supervisor_info(b'{"result": "failed"}')
    with pytest.raises(sunpower.DecodeError, match="supervisor"):
        sunpower.parse_supervisor_info(b'{"result": "succeed"}')


# Energy ----------------------------------------------------------------------------------------


def poll(when: datetime.datetime, kwh: list[float], net: float, ess: float) -> str:
    """One `/vars` poll: three inverters, a consumption meter and the site totals at `when`."""
    live = {
        "/sys/livedata/time": str(int(when.timestamp())),
        "/sys/livedata/pv_en": f"{sum(kwh):.6f}",
        "/sys/livedata/net_en": f"{net:.6f}",
        "/sys/livedata/ess_en": f"{ess:.6f}",
        "/sys/livedata/soc": "0.500000",
    }
    return json.dumps(flat(device_fields(when, kwh, net, net + 100.0, 100.0), live))


def test_two_polls_five_minutes_apart_give_the_counter_differences() -> None:
    t0 = datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    t1 = t0 + datetime.timedelta(minutes=5)
    kwh0, kwh1 = [1915.253174, 2732.301025, 2720.510254], [1915.274174, 2732.323525, 2720.530754]
    net0, net1 = 14116.269531, 14116.369531
    ess0, ess1 = -490.477997, -490.427997
    acc = sunpower.Intervals()
    first = acc.add(sunpower.parse_vars(poll(t0, kwh0, net0, ess0)))
    # The site totals, three inverters and the meter; the 141 has no interval energy.
    assert first == ("stored",) * 5 + ("ignored",)
    acc.extend([sunpower.parse_vars(poll(t1, kwh1, net1, ess1))])
    rows = acc.finish()
    # msmtEps and the livedata time are when the counters were read: the step between the two
    # polls is the interval that ends at the second one.
    row = next(r for r in rows if r.interval_start == t0)
    production = sum(b - a for a, b in zip(kwh0, kwh1)) * 1000
    assert row.production_wh == pytest.approx(production, abs=1e-6)
    assert row.net_wh == pytest.approx((net1 - net0) * 1000, abs=1e-6)
    assert row.battery_wh == pytest.approx((ess1 - ess0) * 1000, abs=1e-6)
    assert row.consumption_wh == pytest.approx(
        production + (net1 - net0) * 1000 + (ess1 - ess0) * 1000, abs=1e-6
    )
    assert row.inverters_reporting == 3 and row.battery_soc_pct == 50.0
    assert sum(r.production_wh for r in rows) == pytest.approx(production, abs=1e-6)
    stats = acc.stats
    assert stats["site_totals"] == 2 and stats["serial_collisions"] == 0
    # Records alone (no site totals) give the same production and net.
    alone = sunpower.Intervals()
    for doc in (poll(t0, kwh0, net0, ess0), poll(t1, kwh1, net1, ess1)):
        alone.extend(sunpower.parse_vars(doc).records)
    (same,) = [r for r in alone.finish() if r.interval_start == t0]
    assert (same.production_wh, same.net_wh) == (row.production_wh, row.net_wh)
    assert same.battery_wh is None


def two_dump_polls(site_offset_s: int) -> list[sunpower.Vars]:
    """The 61845 dump and the same five minutes later, every inverter 10 Wh on and `pv_en`
    200 Wh on; the site totals taken `site_offset_s` after the devices' `msmtEps`."""
    doc = json.loads(DUMP.read_text())
    t0 = int(datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC).timestamp())
    doc["/sys/livedata/time"] = str(t0 + site_offset_s)
    later = dict(doc)
    for key, value in doc.items():
        if key.endswith("/msmtEps"):
            later[key] = "2025-09-30T15:55:00Z"
        elif key.endswith("ltea3phsumKwh") and "/inverter/" in key:
            later[key] = f"{float(value) + 0.01:.6f}"
    later["/sys/livedata/time"] = str(t0 + 300 + site_offset_s)
    later["/sys/livedata/pv_en"] = f"{float(doc['/sys/livedata/pv_en']) + 0.2:.6f}"
    return [sunpower.parse_vars(json.dumps(d)) for d in (doc, later)]


def test_shared_serials_are_not_followed_and_the_site_totals_give_production() -> None:
    acc = sunpower.Intervals()
    acc.extend(two_dump_polls(0))
    rows = acc.finish()
    assert acc.stats["serial_collisions"] == 22  # 11 inverters, twice
    assert all("serial_collision" in r.flags for r in rows)
    (second,) = [r for r in rows if r.interval_start.minute == 50]
    assert "production_from_site_totals" in second.flags
    assert second.production_wh == pytest.approx(200.0, abs=0.01)


def test_shared_serials_with_site_totals_taken_after_the_devices_lose_no_production() -> None:
    # The dump's livedata time is 8 min 22 s after its devices' msmtEps: the site totals are the
    # source of every interval once serials collide, so pv_en's 200 Wh step is counted once.
    acc = sunpower.Intervals()
    acc.extend(two_dump_polls(502))
    rows = acc.finish()
    assert sum(r.production_wh for r in rows) == pytest.approx(200.0, abs=0.01)


def power_frame(t: float, pv: float, net: float, ess: float, *, millis: bool = False) -> str:
    params = {
        "time": int(t * 1000) if millis else int(t),
        "pv_p": "1.500000",
        "pv_en": f"{pv:.6f}",
        "net_p": -0.5,
        "net_en": net,
        "site_load_p": "1.000000",
        "ess_p": "nan",
        "ess_en": f"{ess:.6f}",
        "soc": 0.5,
        "backupTimeRemaining": 300,
        "midstate": 2,
    }
    return json.dumps({"notification": "power", "params": params})


def test_per_second_telemetry_gives_the_totals_of_the_counters_at_its_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t0 = datetime.datetime(2025, 6, 28, 4, 0, tzinfo=UTC).timestamp()
    seconds = 20 * 60
    pv = [40747.871094 + 1.5 / 3600 * s for s in range(seconds + 1)]
    net = [round(6121.330078 - 0.5 / 3600 * s, 6) for s in range(seconds + 1)]
    ess = [-490.463989 + 0.1 / 3600 * s for s in range(seconds + 1)]
    frames = [
        power_frame(t0 + s, pv[s], net[s], ess[s], millis=s % 2 == 1) for s in range(seconds + 1)
    ]
    stream = "\n".join(
        frames[:600] + ['{"notification":"status"}', "", "not json"] + frames[600:]
    ).encode()

    decoder = sunpower.TelemetryDecoder()
    totals: list[sunpower.SiteTotals] = []
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        for start in range(0, len(stream), 777):
            totals.extend(decoder.feed(stream[start : start + 777]))
        totals.extend(decoder.finish())
    assert len(totals) == seconds + 1
    assert decoder.stats == {
        "frames": seconds + 4,
        "power": seconds + 1,
        "other_notifications": 1,
        "blank": 1,
        "errors": 1,
        "unknown_params": 0,
        "without_time": 0,
    }
    assert [m for m in caplog.messages if "frame 603" in m] == caplog.messages
    assert len(caplog.messages) == 1
    # Seconds and milliseconds are the same clock.
    assert totals[1].timestamp == datetime.datetime.fromtimestamp(t0 + 1, UTC)
    # One frame at a time gives the same readings.
    one_by_one = [sunpower.parse_telemetry(f) for f in frames]
    assert one_by_one == totals
    assert sunpower.parse_telemetry('{"notification":"status"}') is None

    acc = sunpower.Intervals()
    acc.extend(totals)
    acc.extend(totals[::7])  # repeated readings count once
    rows = acc.finish()
    assert acc.cadence == datetime.timedelta(minutes=5)
    assert len(rows) == 5
    assert sum(r.production_wh for r in rows) == pytest.approx((pv[-1] - pv[0]) * 1000, abs=2e-3)
    net_wh = [r.net_wh for r in rows]
    battery_wh = [r.battery_wh for r in rows]
    assert all(v is not None for v in net_wh + battery_wh)
    assert sum(v or 0.0 for v in net_wh) == pytest.approx((net[-1] - net[0]) * 1000, abs=1e-3)
    assert sum(v or 0.0 for v in battery_wh) == pytest.approx((ess[-1] - ess[0]) * 1000, abs=1e-3)
    # Each whole interval holds its 300 seconds: 1.5 kW for 5 minutes.
    assert rows[2].production_wh == pytest.approx(125.0, abs=2e-3)
    assert rows[2].battery_soc_pct == 50.0
    # Every reading is accounted for. A re-sent copy of a reading the accumulator already
    # folded away (per-second readings are folded to two an interval as they come) is stored again
    # rather than found a duplicate; its step is in line, so the energy above counts it once.
    stats = acc.stats
    assert stats["stored"] + stats["duplicates"] == len(totals) + len(totals[::7])
    assert 0 < stats["duplicates"] <= len(totals[::7])


def test_telemetry_site_totals_are_what_the_command_prints(sunpower_cli: Path) -> None:
    frames = [power_frame(1751083345 + s, 40747.0 + s / 1000, 6121.0, -490.0) for s in range(3)]
    stream = ("\n".join(frames) + "\n").encode()
    theirs = cli_lines(sunpower_cli, "telemetry", "-", stdin=stream)
    decoder = sunpower.TelemetryDecoder()
    ours = [s.to_dict() for s in decoder.feed(stream) + decoder.finish()]
    assert ours == theirs and [list(d) for d in ours] == [list(d) for d in theirs]
    assert len(ours) == 3 and ours[2]["pv_energy_kwh"] == 40747.002


def test_bad_telemetry_frames_raise_decode_error_with_their_position() -> None:
    with pytest.raises(sunpower.DecodeError, match="pv_p") as caught:
        sunpower.parse_telemetry('{"notification":"power","params":{"pv_p":"lots"}}')
    assert (caught.value.kind, caught.value.frame) == ("invalid_value", None)
    with pytest.raises(ValueError):
        sunpower.parse_telemetry(b"[1]")
    with pytest.raises(sunpower.DecodeError, match="^invalid JSON at line 1 column 2") as caught:
        sunpower.parse_telemetry(b"{oops")
    assert caught.value.kind == "invalid_json"
    decoder = sunpower.TelemetryDecoder()
    assert decoder.decode("") is None
    with pytest.raises(sunpower.DecodeError) as caught:
        decoder.decode(b'{"notification":')
    assert (caught.value.kind, caught.value.frame, caught.value.line) == ("invalid_json", 2, None)
    assert str(caught.value).startswith("frame 2: invalid JSON")
    assert decoder.stats["errors"] == 1 and decoder.stats["blank"] == 1


# Privacy ---------------------------------------------------------------------------------------

SECRETS = {
    "/sys/info/ssid": "MyHomeWifi-Zq7",
    "/sys/info/wpa_key": "hunter2-correct-horse-battery",
    "/sys/info/lmac": "3c:22:fb:91:0a:7e",
    "/sys/info/active_interface_mac": "3C:22:FB:91:0A:7F",
    "/net/sta0/mac": "a4:5e:60:c1:22:d3",
    "/sys/devices/inverter/0/macAddr": "a4:5e:60:c1:22:d4",
    "/sys/pvs/unnamed": "a4-5e-60-c1-22-d5",
    "/sys/info/wifi_ssid_list": "NeighbourNet-X1",
}


def everything_said(obj: object) -> Iterable[str]:
    """Every text an object shows: repr, str, to_dict, attributes and what they hold."""
    yield repr(obj)
    yield str(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        yield json.dumps(to_dict())
    for name in dir(obj):
        if name.startswith("_"):
            continue
        value = getattr(obj, name)
        if callable(value):
            continue
        yield repr(value)
        if isinstance(value, tuple):
            for item in value:
                yield from everything_said(item)
        elif isinstance(value, (sunpower.SupervisorInfo, sunpower.SiteTotals, sunpower.Record)):
            yield from everything_said(value)


def test_no_secret_appears_in_any_object_warning_or_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc: dict[str, Any] = json.loads(DUMP.read_text())
    doc.update(SECRETS)
    # A nested device with a MAC field and a bad value next to it, so that problems are made.
    doc["/sys/devices/30/meter/data"] = {
        "sn": "PVS6M00000001c",
        "msmtEps": "2025-09-30T15:50:00Z",
        "lmac": SECRETS["/sys/info/lmac"],
        "wpa_key": SECRETS["/sys/info/wpa_key"],
        "p3phsumKw": "broken",
    }
    said: list[str] = []
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for form in (doc, {"values": [{"name": k, "value": v} for k, v in doc.items()]}):
            vars = sunpower.parse_vars(json.dumps(form))
            assert vars.withheld >= len(SECRETS) + 2
            assert vars.problems  # the broken meter
            said.extend(everything_said(vars))
            acc = sunpower.Intervals()
            acc.add(vars)
            said.extend(repr(r) + json.dumps(r.to_dict()) for r in acc.finish())
            said.append(repr(acc.stats))
        supervisor = {
            "SERIAL": "ZT1",
            "WIFI_SSID": SECRETS["/sys/info/ssid"],
            "WPA_KEY": SECRETS["/sys/info/wpa_key"],
            "MAC": SECRETS["/sys/info/lmac"],
        }
        info_doc = {"result": "succeed", "supervisor": supervisor}
        info = sunpower.parse_supervisor_info(json.dumps(info_doc))
        assert info.withheld == 3
        said.extend(everything_said(info))
        try:
            sunpower.parse_vars(json.dumps(doc)[:-1])  # cut short: invalid JSON
        except sunpower.DecodeError as e:
            said.append(str(e) + repr(e))
        else:
            raise AssertionError("a cut document decoded")
    said.extend(caplog.messages)
    said.extend(str(w.message) for w in caught)
    assert caplog.messages, "the broken meter was logged"
    text = "\n".join(said)
    assert "PVS6M123456c" in text  # the check sees what is shown
    for secret in [*SECRETS.values(), "SunPower44444", "DDDDDDDDD"]:
        for variant in (secret, secret.lower(), secret.upper()):
            assert variant not in text, secret


def shows_mac(text: str) -> bool:
    lower = text.lower()
    return any(pair in lower for pair in ("de:ad", "de-ad", "ef:00", "ef-00"))


def test_mac_shaped_values_and_secrets_anywhere_in_a_path_are_in_no_object(
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = {
        "/sys/devices/inverter/0/sn": "DE:AD:BE:EF:00:42",
        "/sys/devices/inverter/0/prodMdlNm": "AC_Module de:ad:be:ef:00:44",
        "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "x" * 40 + "DE:AD:BE:EF:00:45",
        "/sys/devices/meter/0/sn": "DE-AD-BE-EF-00-43c",
        "/sys/devices/meter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/info/DE:AD:BE:EF:00:47": "up",
        "/sys/info/ssid": {"value": SECRETS["/sys/info/ssid"]},
        "/net/sta0/ssid/0": SECRETS["/sys/info/wifi_ssid_list"],
        "/sys/livedata/pv_en": "DE:AD:BE:EF:00:48",
    }
    array = {"values": [{"name": k, "value": v} for k, v in doc.items()], "count": "DE:AD:BE:EF:00:49"}
    said: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for form in (doc, array):
            vars = sunpower.parse_vars(json.dumps(form))
            said.extend(everything_said(vars))
            assert [r.serial for r in vars.records] == ["withheld-inverter-0", "withheld-meter-0"]
            assert vars.withheld >= 8
            assert vars.other == ()
    said.extend(caplog.messages)
    text = "\n".join(said)
    assert not shows_mac(text), text
    for secret in (SECRETS["/sys/info/ssid"], SECRETS["/sys/info/wifi_ssid_list"]):
        assert secret not in text


def test_livedata_state_of_charge_is_percent_and_over_one_is_a_problem() -> None:
    """Issue 22: `soc` is a fraction on the wire, percent in `SiteTotals`, at both ends; a value
    over 1 costs its field and is reported, never read 100 times too high."""
    def site(soc: str) -> sunpower.Vars:
        return sunpower.parse_vars(json.dumps({"/sys/livedata/pv_en": "7.5", "/sys/livedata/soc": soc}))
    for soc, pct in [("0", 0.0), ("1", 100.0), ("0.860000", 86.0)]:
        vars = site(soc)
        assert vars.site is not None and vars.site.battery_soc_pct == pct, soc
        assert vars.problems == ()
    vars = site("1.5")
    assert vars.site is not None
    assert (vars.site.battery_soc_pct, vars.site.pv_energy_kwh) == (None, 7.5)
    assert [(p.kind, p.field, p.found) for p in vars.problems] == [("invalid_value", "soc", "1.5")]


def test_one_bad_entry_costs_its_field_and_nothing_is_dropped_uncounted() -> None:
    doc = b'\xef\xbb\xbf{"/sys/livedata/pv_en": 1e400, "/sys/livedata/pv_p": "2.5",' \
        b' "/sys/livedata/pv_p": "9", "values": [1, {"name": "/sys/livedata/soc", "value": "0.5"}]}'
    vars = sunpower.parse_vars(doc)
    assert vars.site is not None
    assert (vars.site.pv_energy_kwh, vars.site.pv_power_kw, vars.site.battery_soc_pct) == (None, 2.5, 50.0)
    assert [str(p) for p in vars.problems] == [
        '/sys/livedata/pv_en: pv_en: expected a decimal number, found "1e400"',
        "/sys/livedata/pv_p: pv_p given again: the first value is kept",
        "values[0]: not a JSON object",
    ]
    fields = ",".join(f'"k{i}": {i}' for i in range(1000))
    vars = sunpower.parse_vars('{"/sys/unknown": {' + fields + "}}")
    assert (vars.other_count, vars.dropped) == (256, 744)


def test_a_bytearray_over_the_limit_is_refused_as_too_large() -> None:
    doc = bytearray(b'{"/sys/x": "') + bytearray(32 * 1024 * 1024) + bytearray(b'"}')
    with pytest.raises(sunpower.DecodeError) as caught:
        sunpower.parse_vars(doc)
    assert caught.value.kind == "too_large"


ESS_SITE = {
    "/sys/devices/ess/0/sn": "BC01",
    "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z",
    "/sys/devices/ess/0/socVal": "0.29",
    "/sys/devices/ess/0/sohVal": "1",
    "/sys/devices/ess/0/posLtea3phsumKwh": "120.5",
    "/sys/devices/ess/0/negLtea3phsumKwh": "140.25",
    "/sys/devices/ess/1/sn": "BC02",
    "/sys/devices/ess/1/msmtEps": "2025-09-30T15:50:00Z",
    "/sys/devices/ess/1/socVal": "86",
    "/sys/devices/transfer_switch/0/sn": "MIDC01",
    "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
    "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_NEW",
    "/sys/devices/transfer_switch/0/v1nGridV": "121.5",
    "/sys/pvs/flashwear_type_b": "0x05",
    "/sys/info/ssid": "HomeWiFi",
}


def test_batteries_transfer_switches_and_health_are_typed_in_percent_and_as_the_command_prints(
    sunpower_cli: Path, tmp_path: Path
) -> None:
    doc = json.dumps(ESS_SITE)
    vars = sunpower.parse_vars(doc)
    first, second = vars.batteries
    assert isinstance(first, sunpower.Battery)
    assert (first.serial, first.soc_pct, first.soh_pct) == ("BC01", 29.0, 100.0)
    assert (first.discharge_energy_kwh, first.charge_energy_kwh) == (120.5, 140.25)
    assert first.timestamp == datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)
    assert (first.record_type, first.source) == ("battery", "vars")
    # 86 is not a fraction: a problem, never 8600 %.
    assert second.soc_pct is None
    assert [(p.kind, p.field, p.found) for p in vars.problems] == [("invalid_value", "socVal", "86")]
    (switch,) = vars.transfer_switches
    assert isinstance(switch, sunpower.TransferSwitch)
    assert (switch.mid_state, switch.grid_leg1_voltage_v) == ("MID_STATE_NEW", 121.5)
    health = vars.health
    assert isinstance(health, sunpower.SupervisorHealth)
    assert health.flash_wear_pct == 50.0
    assert vars.withheld == 1
    assert "HomeWiFi" not in repr(python_lines(vars))
    # The same objects as the command prints.
    path = tmp_path / "ess.json"
    path.write_text(doc)
    assert cli_lines(sunpower_cli, "vars", str(path)) == python_lines(vars)
    assert first == sunpower.parse_vars(doc).batteries[0]
    # Every key of each object is an attribute of its class, with the same value.
    for obj in (first, switch, health):
        assert all(getattr(obj, k) is not None or v is None for k, v in obj.to_dict().items())
        assert [k for k in obj.to_dict() if not hasattr(obj, k)] == []


def test_record_fields_describes_the_kinds_with_their_own_class() -> None:
    """`record_fields` takes a kind's name as its objects' `record_type`: the names are each
    class's attributes and its `to_dict()` keys, in order, units as the table has them."""
    vars = sunpower.parse_vars(json.dumps(ESS_SITE))
    objects: dict[
        str, sunpower.Battery | sunpower.TransferSwitch | sunpower.SupervisorHealth | None
    ] = {
        "battery": vars.batteries[0],
        "transfer_switch": vars.transfer_switches[0],
        "supervisor_health": vars.health,
    }
    for kind, obj in objects.items():
        assert obj is not None and obj.record_type == kind
        table = sunpower.record_fields(kind)
        names = [name for name, _, _ in table]
        assert [k for k in obj.to_dict() if k != "record_type"] == names, kind
        assert all(hasattr(obj, name) for name in names), kind
    battery = {name: (t, unit) for name, t, unit in sunpower.record_fields("battery")}
    assert battery["soc_pct"] == ("decimal", "%")
    assert battery["serial"] == ("text", None)
    assert battery["timestamp"] == ("time", None)
    switch = {name: t for name, t, _ in sunpower.record_fields("transfer_switch")}
    assert switch["mid_state"] == "text"
    # Numbers as before; an unknown name is refused by name.
    assert sunpower.record_fields(130)[4] == ("lifetime_energy_kwh", "decimal", "kWh")
    with pytest.raises(ValueError, match='"bat": not a kind'):
        sunpower.record_fields("bat")


def test_a_frame_carrying_some_fields_says_which_and_holds_the_others(sunpower_cli: Path) -> None:
    frames = (
        b'{"notification":"power","params":{"time":1759247900,"pv_p":"2.5","pv_en":"100.5",'
        b'"net_en":"20.25","soc":"0.5"}}\n'
        b'{"notification":"power","params":{"time":1759247901,"pv_en":"100.6"}}\n'
    )
    decoder = sunpower.TelemetryDecoder()
    first, second = decoder.feed(frames)
    assert first.carried == ["time", "pv_p", "pv_en", "net_en", "soc"]
    assert second.carried == ["time", "pv_en"]
    # The fields the second frame left out hold the first frame's values.
    assert (second.pv_power_kw, second.net_energy_kwh, second.battery_soc_pct) == (2.5, 20.25, 50.0)
    assert second.pv_energy_kwh == 100.6
    assert second.to_dict()["carried"] == ["time", "pv_en"]
    assert cli_lines(sunpower_cli, "telemetry", "-", stdin=frames) == [
        first.to_dict(),
        second.to_dict(),
    ]
