"""parse_body and parse_line on good input: records, typed attributes, to_dict, repr."""

from __future__ import annotations

import ast
import datetime
import json
import pickle
import subprocess
from pathlib import Path

import pytest

import sunpower
from conftest import FORUM_BODY, REPO

INVERTER_LINE = (
    "130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t"
    "0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0"
)
METER_LINE = (
    "140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t125\t607\t0.7075\t0.753\t1.3836\t0.5104\t"
    "59.978\t0"
)


def test_installed_wheel_is_what_is_tested() -> None:
    # The tests must exercise the built wheel, never the source tree.
    assert "site-packages" in Path(sunpower.__file__).parts
    assert sunpower.__version__


def test_forum_body_decodes_to_thirty_records(forum_body: bytes) -> None:
    records = sunpower.parse_body(forum_body)
    assert len(records) == 30
    assert [r.record_type for r in records][:2] == [100, 120]
    assert records[-1].record_type == 102


def test_inverter_fields_are_typed(forum_body: bytes) -> None:
    records = sunpower.parse_body(forum_body)
    (inv,) = [r for r in records if r.record_type == 130 and r.serial == "414051637009125"]
    assert inv.lifetime_energy_kwh == 18.5466
    assert inv.ac_power_kw == 0.0417
    assert inv.model == "AC_Module_Type_C"
    assert inv.status == 0 and isinstance(inv.status, int)
    assert inv.aux is None  # the collapsed form has no field 4
    ts = inv.timestamp
    assert ts == datetime.datetime(2017, 1, 7, 17, 10, tzinfo=datetime.timezone.utc)
    assert ts is not None and ts.utcoffset() == datetime.timedelta(0)


def test_str_and_bytes_bodies_decode_alike(forum_body: bytes) -> None:
    assert sunpower.parse_body(forum_body) == sunpower.parse_body(forum_body.decode())
    assert sunpower.parse_body(bytearray(forum_body)) == sunpower.parse_body(forum_body)


def test_crlf_and_empty_lines_are_accepted() -> None:
    records = sunpower.parse_body(b"102\tabc\r\n\r\n\n" + INVERTER_LINE.encode() + b"\r\n")
    assert [r.record_type for r in records] == [102, 130]
    assert records[1].status == 0


def test_every_record_type_has_its_attributes() -> None:
    header = sunpower.parse_line("100\tSPMS\t10\tZT162585000441C1402\t20170107171925")
    assert header.supervisor_serial == "ZT162585000441C1402"
    assert header.sent_at == datetime.datetime(2017, 1, 7, 17, 19, 25, tzinfo=datetime.timezone.utc)
    assert (header.tag, header.version) == ("SPMS", "10")
    status = sunpower.parse_line(
        "120\t20170107171500\tZT162585000441C1402\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408"
    )
    assert (status.comm_errors, status.uptime_s, status.cpu_load) == (445, 81666, 0.21)
    meter = sunpower.parse_line(METER_LINE)
    assert meter.meter_kind == "consumption"
    assert meter.real_power_kw == 0.7075
    legs = sunpower.parse_line(
        "141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.5807\t122.7802\t122.6486\t"
        "0.1709\t0.5366\t120.27"
    )
    assert (legs.flag, legs.leg1_power_kw, legs.unknown_11) == (1, 0.1709, 120.27)
    fronius = sunpower.parse_line("131\t20260105120000\t12345\tFRONIUS IG 4000\t1\t1511\t502")
    assert (fronius.value_1, fronius.value_2, fronius.value_3) == (1, 1511, 502)
    ident = sunpower.parse_line(
        "122\t20260105120000\tZT01\tSMSPVS20R1\t1.0\t2.1\tPV Supervisor\tSMS2.0"
    )
    assert (ident.description, ident.family) == ("PV Supervisor", "SMS2.0")


def test_fields_a_type_lacks_and_empty_fields_are_none() -> None:
    trailer = sunpower.parse_line("102\tabc")
    assert trailer.serial is None and trailer.timestamp is None
    assert trailer.lifetime_energy_kwh is None
    assert "serial" not in trailer.to_dict()
    empty = sunpower.parse_line("130\t20170107171000\tX\tM\t\t\t0.5")
    assert empty.lifetime_energy_kwh is None
    assert empty.ac_power_kw == 0.5
    with pytest.raises(AttributeError):
        empty.no_such_field  # type: ignore[attr-defined]


def test_unknown_types_keep_raw_and_timestamp() -> None:
    r = sunpower.parse_line("170\t20170107171000\tGF1\t0")
    assert r.record_type == 170
    assert r.raw == ("170", "20170107171000", "GF1", "0")
    assert r.serial == "GF1"
    assert r.to_dict() == {
        "record_type": 170,
        "raw": ["170", "20170107171000", "GF1", "0"],
        "timestamp": "2017-01-07T17:10:00Z",
        "serial": "GF1",
    }


def test_parse_line_takes_bytes_and_a_trailing_newline() -> None:
    assert sunpower.parse_line(INVERTER_LINE.encode() + b"\r\n") == sunpower.parse_line(INVERTER_LINE)
    raw = sunpower.parse_line(INVERTER_LINE + "\n").raw
    assert raw is not None and raw[-1] == "0"


def test_to_dict_equals_the_sunpower_command(forum_body: bytes, sunpower_cli: Path) -> None:
    out = subprocess.run(
        [str(sunpower_cli), "parse", str(FORUM_BODY)], capture_output=True, check=True, text=True
    ).stdout.splitlines()
    records = sunpower.parse_body(forum_body)
    assert len(out) == len(records) == 30
    for line, record in zip(out, records):
        expected = json.loads(line)
        got = record.to_dict()
        assert got == expected
        assert list(got) == list(expected)  # the same key order
        assert json.loads(json.dumps(got)) == expected


def test_raw_is_a_tuple_of_the_fields_as_sent() -> None:
    r = sunpower.parse_line("131\t20170107171000\tS\t\t\t7\t")
    assert r.raw == ("131", "20170107171000", "S", "", "", "7", "")
    assert (r.model, r.value_1, r.value_2, r.value_3) == (None, None, 7, None)
    assert isinstance(r.raw, tuple)
    assert r.source == "collector"


def test_repr_shows_type_serial_and_timestamp() -> None:
    assert repr(sunpower.parse_line(INVERTER_LINE)) == (
        "Record(130, serial='414051637009125', timestamp=2017-01-07T17:10:00Z)"
    )
    assert repr(sunpower.parse_line("100\tSPMS\t10\tZT1\t20170107171925")) == (
        "Record(100, supervisor_serial='ZT1', sent_at=2017-01-07T17:19:25Z)"
    )
    assert repr(sunpower.parse_line("102\tabc")) == "Record(102, token='abc')"
    assert repr(sunpower.parse_line("170\tx")) == "Record(170)"


def test_records_are_immutable() -> None:
    r = sunpower.parse_line(INVERTER_LINE)
    with pytest.raises(AttributeError):
        r.serial = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        r.record_type = 1  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        r.new_attribute = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        sunpower.Record()


def test_equality_and_hash_are_by_line() -> None:
    a = sunpower.parse_line(INVERTER_LINE)
    b = sunpower.parse_body(INVERTER_LINE + "\n")[0]
    c = sunpower.parse_line(METER_LINE)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != INVERTER_LINE
    assert len({a, b, c}) == 2


def test_records_pickle() -> None:
    r = sunpower.parse_line(INVERTER_LINE)
    copy = pickle.loads(pickle.dumps(r))
    assert copy == r
    assert copy.to_dict() == r.to_dict()
    assert copy.channel is None


KIND_LINES = {
    100: "100\tSPMS\t10\tZT1\t20170107171925",
    102: "102\ttoken",
    120: "120\t20170107171500\tZT1\t0\t445\t0\t1.5\t7\t81666\t0.21\t24876\t12408",
    122: "122\t20170107171500\tZT1\tM\t1.0\t2.1\tPV Supervisor\tSMS2.0",
    130: "130\t20170107171000\tS\tM\t3\t18.5\t0.04\t245.1\t0.36\t0.04\t59.06\t0.77\t1.25\t59.97\t0",
    131: "131\t20170107171000\tS\tM\t1\t1511\t502",
    140: "140\t20170107171000\tPVS5M508095c\tM\t125\t607\t0.7\t0.75\t1.38\t0.51\t59.97\t0",
    141: "141\t20170107171000\tPVS5M508095c\tM\t1\t5.6\t5.5\t122.7\t122.6\t0.17\t0.53\t120.27",
    999: "999\t20170107171000\tS\tx",
}
# Only the JSON sources have these (a meter of the DeviceList or /vars).
JSON_ONLY = {
    "import_energy_kwh",
    "export_energy_kwh",
    "lifetime_net_energy_resolution_kwh",
    "line_voltage_v",
    "meter_role",
}


def test_the_attributes_stubs_and_dicts_are_the_core_library_s_field_tables() -> None:
    """Each kind's fields are described once, in the Rust library: every name of every kind's
    table is an attribute of `Record` and a property in the stubs (nothing more), and a line of
    each kind gives `to_dict()` keys in the table's order."""
    tables = {t: sunpower.record_fields(t) for t in KIND_LINES}
    assert tables[130][4] == ("lifetime_energy_kwh", "decimal", "kWh")
    assert tables[120][0] == ("timestamp", "time", None)
    names = {name for table in tables.values() for name, _, _ in table}
    record = sunpower.parse_line("102\tabc")
    assert [name for name in sorted(names) if not hasattr(record, name)] == []
    stub = ast.parse((REPO / "sunpower-py" / "python" / "sunpower" / "_sunpower.pyi").read_text())
    cls = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Record")
    properties = {
        f.name
        for f in cls.body
        if isinstance(f, ast.FunctionDef)
        and any(isinstance(d, ast.Name) and d.id == "property" for d in f.decorator_list)
    }
    assert properties == names | {"record_type", "raw", "source", "channel"}
    for record_type, line in KIND_LINES.items():
        keys = [k for k in sunpower.parse_line(line).to_dict() if k not in ("record_type", "raw")]
        table = [name for name, _, _ in tables[record_type] if name not in JSON_ONLY]
        assert keys == table, record_type
