"""The exception and warning classes of :mod:`sunpower`.

They live in Python, not in the compiled module, because ``DecodeError`` and ``CaptureError``
subclass two built-ins each; the compiled module imports them from here when it raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from ._sunpower import Record

__all__ = ["SunpowerError", "DecodeError", "CaptureError", "DecodeWarning"]


class SunpowerError(Exception):
    """Base class of every error this package raises."""


class DecodeError(SunpowerError, ValueError):
    """A line (or several lines) of a body, or a value of one, or a JSON document or telemetry
    frame could not be decoded.

    ``kind`` says what was wrong, the core library's kind in snake case: for a line
    ``"invalid_field"``, ``"missing_field"``, ``"invalid_utf8"`` or ``"line_too_long"``; for a
    JSON document or frame the kind of :class:`DocumentProblem` (``"invalid_json"``,
    ``"failed"``, ...). ``line`` is the number of the (first) bad line, from 1; ``offset`` the
    byte offset of its start in the body; ``field`` the name of the bad field
    (``"lifetime_energy_kwh"``) and ``field_index`` its position, counting the record type as
    field 0; ``frame`` the number of a bad telemetry frame in its stream, from 1. Each is
    ``None`` where it does not apply (a line that is not UTF-8 has no field).

    Raised by :func:`sunpower.parse_body` (with ``errors="raise"``, the default), the exception
    also carries everything the body held: ``records``, the records of the lines that did
    decode (a line whose type, timestamp and serial read is a record, each unreadable value
    ``None``), and ``errors``, one ``DecodeError`` per bad line or value, in line order. For an error about a
    single line, ``errors`` is ``[self]`` and ``records`` is empty.
    """

    kind: Optional[str]
    line: Optional[int]
    offset: Optional[int]
    field: Optional[str]
    field_index: Optional[int]
    frame: Optional[int]
    records: list[Record]
    errors: list[DecodeError]

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        line: Optional[int] = None,
        offset: Optional[int] = None,
        field: Optional[str] = None,
        field_index: Optional[int] = None,
        frame: Optional[int] = None,
        records: Sequence[Record] = (),
        errors: Optional[Sequence[DecodeError]] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.offset = offset
        self.field = field
        self.field_index = field_index
        self.frame = frame
        self.records = list(records)
        self.errors = [self] if errors is None else list(errors)


class CaptureError(SunpowerError, OSError):
    """A capture could not be read at all (not a pcap or pcapng file, unreadable, ...)."""


class DecodeWarning(UserWarning):
    """A bad line skipped by ``parse_body(data, errors="warn")``; attributes as in DecodeError."""

    kind: Optional[str]
    line: Optional[int]
    offset: Optional[int]
    field: Optional[str]
    field_index: Optional[int]

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        line: Optional[int] = None,
        offset: Optional[int] = None,
        field: Optional[str] = None,
        field_index: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.offset = offset
        self.field = field
        self.field_index = field_index


# Shown (and pickled) as the public names: `sunpower.DecodeError`, not `sunpower._errors....`.
for _cls in (SunpowerError, DecodeError, CaptureError, DecodeWarning):
    _cls.__module__ = "sunpower"
del _cls
