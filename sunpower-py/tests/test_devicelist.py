"""parse_device_list: DeviceList JSON documents become the same records as the text stream."""

from __future__ import annotations

import datetime
import json
import logging
import pickle

import pytest

import sunpower
from conftest import REPO

FIXTURES = REPO / "sunpower-proto" / "tests" / "data" / "devicelist"


def test_pvs6_document_decodes_to_typed_records() -> None:
    records = sunpower.parse_device_list((FIXTURES / "pvs6_2019.json").read_bytes())
    kinds = [r.record_type for r in records]
    assert kinds.count(120) == 1
    assert kinds.count(140) == 2
    assert 130 in kinds
    status = next(r for r in records if r.record_type == 120)
    assert status.serial == "ZT183085000441C0912"
    assert status.comm_errors == 312
    assert status.timestamp == datetime.datetime(2019, 9, 26, 16, 30, tzinfo=datetime.timezone.utc)
    meter = next(r for r in records if r.record_type == 140 and r.meter_kind == "consumption")
    assert meter.real_power_kw == -2.1046
    assert meter.lifetime_net_energy_kwh == -812.33


def test_records_have_the_values_of_the_protocol_lines_and_say_their_source() -> None:
    records = sunpower.parse_device_list((FIXTURES / "pvs6_2019.json").read_text())
    inverter = next(r for r in records if r.record_type == 130)
    line = sunpower.parse_line(
        "130\t20190926163000\tE00121838012345\tAC_Module_Type_E\t\t412.7734\t0.2431\t244.81"
        "\t0.99\t0.2497\t55.02\t4.54\t41\t59.99\t0"
    )
    # The same typed fields; `source` in place of `raw` (no line is invented).
    assert inverter.raw is None and inverter.source == "devicelist"
    typed = {k: v for k, v in inverter.to_dict().items() if k != "source"}
    assert typed == {k: v for k, v in line.to_dict().items() if k != "raw"}
    assert inverter != line
    # A meter also has what no line has room for.
    meter = next(r for r in records if r.record_type == 140 and r.meter_kind == "consumption")
    assert meter.import_energy_kwh is not None and meter.lifetime_net_energy_resolution_kwh == 0.01
    assert pickle.loads(pickle.dumps(meter)) == meter


def test_failed_document_raises_decode_error() -> None:
    with pytest.raises(sunpower.DecodeError):
        sunpower.parse_device_list((FIXTURES / "result_failed.json").read_bytes())
    with pytest.raises(ValueError):
        sunpower.parse_device_list(b"not json")


def test_device_problems_are_objects_kept_and_logged_and_others_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = json.loads((FIXTURES / "pvs6_2019.json").read_text())
    doc["devices"][0]["DATATIME"] = "2019,02,30,00,00,00"  # no 30 February
    doc["devices"][3]["ltea_3phsum_kwh"] = "12,5"
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        devices = sunpower.parse_device_list(json.dumps(doc))
    records = list(devices)
    assert records == list(devices.records) and len(devices) == len(records)
    assert all(r.record_type != 120 for r in records)
    assert any(r.record_type == 130 for r in records)
    time, value = devices.problems[:2]
    # Objects with the kind and the position every JSON source's problems have.
    assert isinstance(time, sunpower.DocumentProblem)
    assert (time.kind, time.device, time.field, time.found) == (
        "invalid_value",
        0,
        "DATATIME",
        "2019,02,30,00,00,00",
    )
    assert time.serial == doc["devices"][0]["SERIAL"] and time.path is None
    assert (value.kind, value.device, value.field, value.found) == (
        "invalid_value",
        3,
        "ltea_3phsum_kwh",
        "12,5",
    )
    assert str(time).startswith(f"device 0 ({time.serial}): DATATIME: expected")
    assert [str(p) for p in devices.problems] == caplog.messages[: len(devices.problems)]
    # The bad value cost its field, not its device's record.
    inverter = next(r for r in records if r.serial == doc["devices"][3]["SERIAL"])
    assert inverter.lifetime_energy_kwh is None


def test_a_document_problem_raises_decode_error_with_its_kind() -> None:
    with pytest.raises(sunpower.DecodeError) as caught:
        sunpower.parse_device_list(b'{"devices": {}}')
    assert caught.value.kind == "missing_key"
    with pytest.raises(sunpower.DecodeError) as caught:
        sunpower.parse_device_list((FIXTURES / "result_failed.json").read_bytes())
    assert caught.value.kind == "failed"


def test_mac_shaped_serials_are_withheld_and_counted() -> None:
    doc = (
        '{"result": "succeed", "devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "DE:AD:BE:EF:00:42",'
        ' "DATATIME": "2019,10,11,17,05,00", "ltea_3phsum_kwh": "1.5", "MODEL": "M"}]}'
    )
    listed = sunpower.parse_device_list(doc)
    assert listed.withheld == 1
    assert [r.serial for r in listed.records] == ["withheld-device-0"]
    assert "DE:AD" not in repr([r.to_dict() for r in listed.records])


def sunvault_device_list(time: str, discharged: float, charged: float) -> str:
    """A DeviceList poll with a SunVault's Energy Storage System and one battery module listed
    with its identity only (in error, no DATATIME)."""
    return json.dumps(
        {
            "devices": [
                {"DEVICE_TYPE": "PVS", "SERIAL": "ZT1", "STATE": "working", "DATATIME": time},
                {
                    "DEVICE_TYPE": "Energy Storage System",
                    "SERIAL": "ESS1",
                    "MODEL": "SPWR-Equinox-model",
                    "STATE": "working",
                    "DATATIME": time,
                    "soc_val": "0.86",
                    "soh_val": "0.99",
                    "pos_ltea_3phsum_kwh": str(discharged),
                    "neg_ltea_3phsum_kwh": str(charged),
                },
                {
                    "DEVICE_TYPE": "Battery",
                    "SERIAL": "M1",
                    "MODEL": "POWERAMP-Komodo 1.2",
                    "STATE": "error",
                    "CURTIME": time,
                },
            ],
            "result": "succeed",
        }
    )


def test_batteries_are_battery_objects_in_percent_and_feed_the_intervals() -> None:
    first = sunpower.parse_device_list(sunvault_device_list("2024,04,17,18,00,00", 500.0, 600.0))
    assert [b.serial for b in first.batteries] == ["ESS1", "M1"]
    ess, module = first.batteries
    assert isinstance(ess, sunpower.Battery)
    assert (ess.soc_pct, ess.soh_pct, ess.discharge_energy_kwh) == (86.0, 99.0, 500.0)
    assert ess.model == "SPWR-Equinox-model"
    assert (module.soc_pct, module.model) == (None, "POWERAMP-Komodo 1.2")
    # Batteries are not records: iteration and len() are the records.
    assert [r.record_type for r in first] == [120]
    later = sunpower.parse_device_list(sunvault_device_list("2024,04,17,18,05,00", 500.2, 600.05))
    intervals = sunpower.Intervals(tz="UTC")
    # The documents whole: records, then batteries, as `sunpower intervals --devicelist`.
    assert len(intervals.add(first)) == 3  # the 120 record and two batteries
    intervals.add(later)
    start = datetime.datetime(2024, 4, 17, 18, 0, tzinfo=datetime.timezone.utc)
    (row,) = [row for row in intervals.finish() if row.interval_start == start]
    # Discharged minus charged: +0.2 and +0.05 kWh.
    assert row.battery_wh == pytest.approx(150.0)
    assert row.battery_soc_pct == 86.0
