"""parse_device_list: DeviceList JSON documents become the same records as the text stream."""

from __future__ import annotations

import datetime
import json
import logging

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


def test_records_equal_those_parsed_from_their_lines() -> None:
    records = sunpower.parse_device_list((FIXTURES / "pvs6_2019.json").read_text())
    counters = ("import_energy_kwh", "export_energy_kwh")
    with_counters = 0
    for r in records:
        again = sunpower.parse_line("\t".join(r.raw))
        if r.import_energy_kwh is None and r.export_energy_kwh is None:
            assert again == r
            assert again.to_dict() == r.to_dict()
            continue
        # A meter's import and export counters are in no line: the rest is the line's.
        with_counters += 1
        assert again != r and again.raw == r.raw
        assert again.to_dict() == {k: v for k, v in r.to_dict().items() if k not in counters}
    assert with_counters == 1


def test_failed_document_raises_decode_error() -> None:
    with pytest.raises(sunpower.DecodeError):
        sunpower.parse_device_list((FIXTURES / "result_failed.json").read_bytes())
    with pytest.raises(ValueError):
        sunpower.parse_device_list(b"not json")


def test_device_problems_are_logged_and_others_kept(caplog: pytest.LogCaptureFixture) -> None:
    doc = json.loads((FIXTURES / "pvs6_2019.json").read_text())
    doc["devices"][0]["DATATIME"] = "2019,02,30,00,00,00"  # no 30 February
    with caplog.at_level(logging.WARNING, logger="sunpower"):
        records = sunpower.parse_device_list(json.dumps(doc))
    assert all(r.record_type != 120 for r in records)
    assert any(r.record_type == 130 for r in records)
    assert any("DATATIME" in m or "2019,02,30" in m for m in caplog.messages), caplog.messages
