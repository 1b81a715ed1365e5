"""Bad input: exceptions, their classes and positions, and the errors= policies of parse_body."""

from __future__ import annotations

import warnings

import pytest

import sunpower

GOOD = "102\tabc"
BAD_NUMBER = "130\t20170107171000\tX\tM\t\tnot-a-number"
BAD_TIME = "130\t2017-bad\t414051636008165\tAC_Module_Type_C\t17.8875"
DAMAGED = "\n".join([GOOD, BAD_NUMBER, GOOD, BAD_TIME, GOOD]) + "\n"


def test_exception_classes_subclass_the_builtins() -> None:
    assert issubclass(sunpower.SunpowerError, Exception)
    assert issubclass(sunpower.DecodeError, sunpower.SunpowerError)
    assert issubclass(sunpower.DecodeError, ValueError)
    assert issubclass(sunpower.CaptureError, sunpower.SunpowerError)
    assert issubclass(sunpower.CaptureError, OSError)
    assert issubclass(sunpower.DecodeWarning, UserWarning)


def test_parse_line_error_names_the_field() -> None:
    with pytest.raises(sunpower.DecodeError) as info:
        sunpower.parse_line(BAD_NUMBER)
    e = info.value
    assert (e.line, e.offset, e.field, e.field_index) == (1, 0, "lifetime_energy_kwh", 5)
    assert e.kind == "invalid_field" and e.frame is None
    assert str(e).startswith("line 1: field 5 (lifetime_energy_kwh): expected a decimal number")
    assert e.errors == [e] and e.records == []


def test_parse_line_refuses_several_lines() -> None:
    with pytest.raises(sunpower.DecodeError, match="parse_body"):
        sunpower.parse_line("102\ta\n102\tb")


def test_damaged_body_raises_by_default_and_loses_nothing() -> None:
    with pytest.raises(sunpower.DecodeError) as info:
        sunpower.parse_body(DAMAGED)
    e = info.value
    assert (e.line, e.field) == (2, "lifetime_energy_kwh")
    assert str(e).startswith("2 lines or values could not be decoded: line 2: field 5")
    assert "line 4: field 1 (timestamp)" in str(e)
    # The bad number costs its field, not its line's record; the bad time costs the line.
    assert [r.record_type for r in e.records] == [102, 130, 102, 102]
    assert e.records[1].serial == "X" and e.records[1].lifetime_energy_kwh is None
    assert [(x.line, x.field, x.offset) for x in e.errors] == [
        (2, "lifetime_energy_kwh", len(GOOD) + 1),
        (4, "timestamp", 2 * len(GOOD) + len(BAD_NUMBER) + 3),
    ]


def test_many_bad_lines_are_summed_up_in_the_message() -> None:
    with pytest.raises(sunpower.DecodeError, match="; and 2 more$") as info:
        sunpower.parse_body("\n".join([BAD_TIME] * 5))
    assert len(info.value.errors) == 5


def test_skip_keeps_what_decodes_and_warns_of_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records = sunpower.parse_body(DAMAGED, errors="skip")
    assert [r.record_type for r in records] == [102, 130, 102, 102]


def test_warn_issues_one_warning_per_bad_line() -> None:
    with pytest.warns(sunpower.DecodeWarning) as caught:
        records = sunpower.parse_body(DAMAGED, errors="warn")
    assert len(records) == 4
    lines = [w.message.line for w in caught.list if isinstance(w.message, sunpower.DecodeWarning)]
    assert lines == [2, 4]
    kinds = [w.message.kind for w in caught.list if isinstance(w.message, sunpower.DecodeWarning)]
    assert kinds == ["invalid_field", "invalid_field"]
    assert caught.list[0].filename == __file__  # attributed to the caller


def test_unknown_errors_policy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="errors must be"):
        sunpower.parse_body(GOOD, errors="ignore")  # type: ignore[arg-type]


def test_non_utf8_line_is_one_bad_line() -> None:
    body = b"102\tabc\n102\t\xff\xfe\n102\tdef\n"
    with pytest.raises(sunpower.DecodeError) as info:
        sunpower.parse_body(body)
    e = info.value
    assert (e.line, e.field, e.field_index) == (2, None, None)
    assert e.kind == "invalid_utf8"
    assert "invalid UTF-8" in str(e)
    assert [r.token for r in sunpower.parse_body(body, errors="skip")] == ["abc", "def"]
    with pytest.raises(sunpower.DecodeError, match="invalid UTF-8"):
        sunpower.parse_line(b"102\t\xff")


def test_wrong_input_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="expected bytes or str"):
        sunpower.parse_body(12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sunpower.parse_line(None)  # type: ignore[arg-type]


def test_empty_body_has_no_records() -> None:
    assert sunpower.parse_body(b"") == []
    assert sunpower.parse_body("\n\r\n") == []
