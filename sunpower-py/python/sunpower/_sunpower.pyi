"""The compiled module; import its names from :mod:`sunpower`."""

import datetime
import os

from ._errors import DecodeError
from typing import Any, Iterable, Iterator, Literal, Protocol, Union, final

__all__ = [
    "__version__",
    "Record",
    "Post",
    "CaptureReader",
    "Intervals",
    "Interval",
    "PvOutputEncoder",
    "parse_body",
    "parse_device_list",
    "parse_line",
    "read_capture",
    "pvoutput_payloads",
    "write_tree",
    "records_to_arrow",
    "RecordBatches",
    "_record_from_line",
]

__version__: str

@final
class Record:
    """One record: one line of a POST body, decoded. Immutable and hashable.

    Every typed field name of any record type is an attribute of every record. An attribute is
    ``None`` when the line left the field empty (not reported) *and* when the record's type has
    no such field (``parse_line("102\\tabc").serial is None``): check ``record_type``, or
    ``name in record.to_dict()``, to tell the two apart. Timestamps are aware
    ``datetime.datetime`` objects in UTC.

    Two records are equal, and hash alike, when their lines are the same text (``raw``); the
    channel does not count. Records pickle.

    Records are made by :func:`parse_body` and :func:`parse_line`, not by calling ``Record``.
    """

    @property
    def record_type(self) -> int:
        """Field 0: ``130`` for an inverter, ``140`` for a meter, ..."""
    @property
    def raw(self) -> tuple[str, ...]:
        """The line's fields exactly as sent, field 0 included, empty fields kept."""
    @property
    def channel(self) -> Literal["data", "command"] | None:
        """The collector channel of the post the record came in, when known (from a capture)."""
    def to_dict(self) -> dict[str, Any]:
        """The record as one line of ``sunpower parse`` / ``sunpower decode`` JSON Lines.

        The same keys in the same order (``record_type``, ``raw``, ``channel`` when known, then
        the typed fields of the record's type), with JSON values: ``raw`` a list, timestamps
        RFC 3339 strings (``"2017-01-07T17:10:00Z"``), ``None`` for not reported. So
        ``json.dumps(record.to_dict())`` is the command's line.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[str, str | None]]: ...

    # 100: the post's header.
    @property
    def supervisor_serial(self) -> str | None: ...
    @property
    def sent_at(self) -> datetime.datetime | None: ...
    @property
    def tag(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...

    # 102: the post's trailer.
    @property
    def token(self) -> str | None: ...

    # Every data record (120, 122, 130, 131, 140, 141; other types when field 1 is a timestamp).
    @property
    def timestamp(self) -> datetime.datetime | None:
        """Field 1: the start of the interval (aware, UTC)."""
    @property
    def serial(self) -> str | None:
        """Field 2: the device's serial."""
    @property
    def model(self) -> str | None: ...

    # 120: supervisor status.
    @property
    def error_count(self) -> int | None: ...
    @property
    def comm_errors(self) -> int | None: ...
    @property
    def skipped_scans(self) -> int | None: ...
    @property
    def scan_time_s(self) -> float | None: ...
    @property
    def untransmitted(self) -> int | None: ...
    @property
    def uptime_s(self) -> int | None: ...
    @property
    def cpu_load(self) -> float | None: ...
    @property
    def memory_used_kb(self) -> int | None: ...
    @property
    def flash_available_kb(self) -> int | None: ...

    # 122: supervisor identity.
    @property
    def version_a(self) -> str | None: ...
    @property
    def version_b(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def family(self) -> str | None: ...

    # 130: inverter.
    @property
    def aux(self) -> int | None: ...
    @property
    def lifetime_energy_kwh(self) -> float | None: ...
    @property
    def ac_power_kw(self) -> float | None: ...
    @property
    def ac_voltage_v(self) -> float | None: ...
    @property
    def ac_current_a(self) -> float | None: ...
    @property
    def dc_power_kw(self) -> float | None: ...
    @property
    def dc_voltage_v(self) -> float | None: ...
    @property
    def dc_current_a(self) -> float | None: ...
    @property
    def heatsink_temp_c(self) -> float | None: ...
    @property
    def frequency_hz(self) -> float | None:
        """130 and 140."""
    @property
    def status(self) -> int | None:
        """130 and 140."""

    # 131: inverter status.
    @property
    def value_1(self) -> int | None: ...
    @property
    def value_2(self) -> int | None: ...
    @property
    def value_3(self) -> int | None: ...

    # 140: power meter.
    @property
    def meter_kind(self) -> Literal["production", "consumption", "unknown"] | None:
        """From the serial's last letter: ``p`` production, ``c`` consumption."""
    @property
    def ct_scale(self) -> float | None: ...
    @property
    def lifetime_net_energy_kwh(self) -> float | None: ...
    @property
    def real_power_kw(self) -> float | None: ...
    @property
    def reactive_power_kvar(self) -> float | None: ...
    @property
    def apparent_power_kva(self) -> float | None: ...
    @property
    def power_factor(self) -> float | None: ...

    # 141: consumption meter per leg.
    @property
    def flag(self) -> int | None: ...
    @property
    def leg1_current_a(self) -> float | None: ...
    @property
    def leg2_current_a(self) -> float | None: ...
    @property
    def leg1_voltage_v(self) -> float | None: ...
    @property
    def leg2_voltage_v(self) -> float | None: ...
    @property
    def leg1_power_kw(self) -> float | None: ...
    @property
    def leg2_power_kw(self) -> float | None: ...
    @property
    def unknown_11(self) -> float | None: ...

def parse_body(
    data: bytes | bytearray | str,
    *,
    errors: Literal["raise", "warn", "skip"] = "raise",
) -> list[Record]:
    """Decode a raw POST body (no HTTP): one record per non-empty line, in order.

    Lines end in LF or CRLF; a line that is not UTF-8 is a bad line, not a failure of the body.
    The decoding runs with the GIL released.

    ``errors`` says what a bad line does, as ``errors=`` does for ``bytes.decode``:

    - ``"raise"`` (default): every line is decoded, then, if any was bad, :class:`DecodeError`
      is raised. It is positioned at the first bad line (``line``, ``field``) and loses nothing:
      ``exc.records`` holds the records that decoded and ``exc.errors`` one ``DecodeError`` per
      bad line.
    - ``"warn"``: bad lines are left out, each with a :class:`DecodeWarning`.
    - ``"skip"``: bad lines are left out silently (as ``sunpower parse`` does, less its messages).

    Raises ``TypeError`` for other types of ``data`` and ``ValueError`` for another ``errors``.
    """

def parse_line(line: str | bytes | bytearray) -> Record:
    """Decode one line; one trailing LF or CRLF is allowed.

    Raises :class:`DecodeError` (with ``line == 1`` and ``field`` where known) for a bad line, or
    for text holding several lines.
    """

def parse_device_list(data: bytes | bytearray | str) -> list[Record]:
    """Decode a DeviceList JSON document of the PVS local API into records.

    The supervisor becomes a 120 record, each inverter a 130, each meter a 140 (and a 141 where
    the per-leg keys exist): the same typed records as the plain-text stream, so
    :class:`Intervals` works on either. A document that is not a DeviceList, or whose ``result``
    is ``"failed"``, raises :class:`DecodeError`; a device that cannot be decoded, is not
    working, or is of an unknown type is logged on the ``sunpower`` logger and left out.
    """

def _record_from_line(line: str, channel: str | None) -> Record: ...

class _BinaryReader(Protocol):
    """A binary file object: what ``read_capture`` calls is ``read(size)``. ``None`` (a
    non-blocking stream with nothing ready) is waited on, briefly and without the GIL."""

    def read(self, size: int, /) -> bytes | None: ...

_CaptureSource = Union[str, "os.PathLike[str]", _BinaryReader]

def read_capture(*sources: _CaptureSource) -> CaptureReader:
    """Read a capture and iterate over its collector posts, lazily, in capture order.

    Each source is a path or a binary file object (``open(path, "rb")``, ``sys.stdin.buffer``,
    ``io.BytesIO``) of a pcap or pcapng capture, optionally gzip-compressed (found from the
    bytes). Several sources are one capture cut into pieces, in order (a rotated set): a
    connection that spans two files decodes whole. Memory stays bounded whatever the size;
    decoding runs with the GIL released (a file object's ``read`` takes it back briefly).

    Raises :class:`CaptureError` (an ``OSError``) when the iteration reaches a source that
    cannot be read at all (missing, not a capture). Problems that do not stop decoding (gaps,
    damaged packets, cut posts) are logged as warnings on the ``"sunpower"`` logger.
    """

@final
class CaptureReader(Iterator[Post]):
    """The iterator :func:`read_capture` returns. One thread at a time."""

    def __iter__(self) -> CaptureReader: ...
    def __next__(self) -> Post: ...
    def to_arrow(self) -> dict[int, RecordBatches]:
        """The rest of the capture (what iteration has not handed out) as Arrow batches, one
        :class:`RecordBatches` per record type, in type order. Decoded and built without the
        GIL and without a Python object per record; problems are logged as iterating logs
        them. ``pyarrow.table(batches[130])``, ``polars.from_arrow(...)``, DuckDB."""
    @property
    def stats(self) -> dict[str, Any]:
        """Every counter so far: exactly the keys and values ``sunpower stats`` prints for the
        same input (``packets``, ``connections``, ``posts``, ``records``, ``records_by_type`` as
        a dict of type strings to counts, ``gaps``, ``bytes_missing``, ``damaged_posts``,
        ``line_errors``, ``inverter_lines_collapsed``, and every other counter in a ``details``
        dict). Problems are logged as ``sunpower stats`` prints them: at most 100 of each kind,
        then one "N more ... not shown" line per kind at the end."""

@final
class Post:
    """One collector request from a capture. Immutable."""

    @property
    def records(self) -> tuple[Record, ...]:
        """The body's records, in order, each with ``channel`` set. For an incomplete post,
        the whole lines before the hole."""
    @property
    def errors(self) -> tuple[DecodeError, ...]:
        """One :class:`DecodeError` per line of the body that could not be decoded: the first
        100 (memory stays bounded on a post of bad lines); ``error_count`` counts them all."""
    @property
    def error_count(self) -> int:
        """How many lines of the body could not be decoded."""
    @property
    def channel(self) -> Literal["data", "command"] | None: ...
    @property
    def captured_at(self) -> datetime.datetime:
        """Capture time (aware, UTC) of the packet that completed the request."""
    @property
    def complete(self) -> bool:
        """Whether the whole body arrived."""
    @property
    def missing_bytes(self) -> int | None:
        """Body bytes missing, when the body was cut and its length was declared."""
    @property
    def body(self) -> bytes:
        """The body as received (de-chunked)."""
    @property
    def target(self) -> str:
        """The request target as sent (``/Data/SMS2DataCollector.aspx``)."""
    @property
    def input(self) -> str:
        """The name of the source it came from."""
    @property
    def packet(self) -> int:
        """The number (from 1, within its source) of the packet that completed it."""
    @property
    def client(self) -> tuple[str, int]:
        """The supervisor's address and port."""
    @property
    def server(self) -> tuple[str, int]:
        """The collector's address and port."""

@final
class Intervals:
    """Energy per interval from records fed in any order, replays and duplicates included.

    The same accumulator as ``sunpower intervals``: see PROTOCOL.md, "Energy from the
    records". ``tz`` is the IANA zone of ``Interval.interval_start_local``. By default
    (offline) rows come out of :meth:`finish`; with ``streaming=True``, :meth:`advance_to`
    hands out the intervals that became ready as the capture clock moves (revisions later).
    Warnings (counter resets, conflicting duplicates) are logged on the ``"sunpower"`` logger.
    """

    def __new__(
        cls,
        tz: str = "UTC",
        *,
        cadence: datetime.timedelta | None = None,
        streaming: bool = False,
        lateness: datetime.timedelta | None = None,
    ) -> Intervals: ...
    @property
    def tz(self) -> str: ...
    @property
    def cadence(self) -> datetime.timedelta:
        """The interval length: the one given, else inferred from the records (5 min until known)."""
    def add(
        self, record: Record
    ) -> Literal["stored", "duplicate", "conflict", "beyond_horizon", "ignored", "other"]:
        """Feed one record; says what became of it."""
    def extend(self, records: Iterable[Record]) -> None:
        """Feed every record of an iterable (``parse_body(...)``, ``post.records``)."""
    def advance_to(self, now: datetime.datetime) -> list[Interval]:
        """Streaming: the capture clock is now ``now`` (aware); the intervals now ready."""
    def finish(self) -> list[Interval]:
        """Every interval still held, in start order."""
    def finish_arrow(self) -> RecordBatches:
        """Every interval still held (as :meth:`finish` returns them) as Arrow batches with the
        keys of :meth:`Interval.to_dict` as columns (``interval_start_local`` a timestamp in the
        zone); built without the GIL."""
    def write_tree(self, directory: str | os.PathLike[str]) -> dict[str, int]:
        """Every interval still held (as :meth:`finish` returns them) merged into the
        ``YYYY/MM/DD.csv``, ``YYYY/MM/daily.csv``, ``YYYY/monthly.csv``, ``yearly.csv`` tree
        under ``directory``, as ``sunpower intervals --tree`` writes it (locked, crash-safe,
        idempotent). Returns ``inserted``, ``replaced``, ``kept`` and ``files`` (written)."""
    @property
    def stats(self) -> dict[str, int]:
        """``records``, ``stored``, ``duplicates``, ``conflicts``, ``beyond_horizon``,
        ``ignored``, ``events_dropped``."""

@final
class Interval:
    """One interval's energy: a row of ``sunpower intervals``. Immutable; equal by value."""

    @property
    def interval_start(self) -> datetime.datetime:
        """Start (aware, UTC), included."""
    @property
    def interval_start_local(self) -> datetime.datetime:
        """The start in the accumulator's zone (aware, with that zone's offset then)."""
    @property
    def interval_end(self) -> datetime.datetime:
        """End (aware, UTC), excluded."""
    @property
    def production_wh(self) -> float: ...
    @property
    def consumption_wh(self) -> float | None:
        """``None`` without a consumption meter report for the interval."""
    @property
    def net_wh(self) -> float | None:
        """From the grid, positive for import; ``None`` without a meter report."""
    @property
    def production_w(self) -> float: ...
    @property
    def consumption_w(self) -> float | None: ...
    @property
    def battery_wh(self) -> float | None:
        """Energy from the battery into the house, Wh (negative while charging); ``None``
        without a battery report."""
    @property
    def battery_soc(self) -> float | None:
        """The battery's state of charge, a fraction (0.86 is 86 %); ``None`` without a
        battery report."""
    @property
    def net_source(self) -> Literal["counter", "power", "none"]: ...
    @property
    def inverters_reporting(self) -> int: ...
    @property
    def flags(self) -> tuple[str, ...]:
        """Names of what was noteworthy: ``"missed_report"``, ``"no_meter"``, ..."""
    @property
    def revised(self) -> bool:
        """Whether this row replaces one emitted before (streaming)."""
    def to_dict(self) -> dict[str, Any]:
        """The row as ``sunpower intervals --format jsonl`` prints it (times as strings)."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class PvOutputEncoder:
    """PVOutput statuses from interval rows, keeping each local day's running totals across
    calls: a live uploader that pushes rows as they become ready (and revised) ends with the same
    status for every time of day as one push of the whole capture, as ``sunpower intervals
    --format pvoutput`` writes them.

    A day not seen from its local midnight has powers only (``d,t,,v2,,v4``); a time already
    used that day (the repeated hour when daylight saving ends) is not sent twice.
    """

    def __new__(cls, tz: str = "UTC") -> PvOutputEncoder: ...
    @property
    def tz(self) -> str: ...
    def push(self, rows: Iterable[Interval]) -> list[str]:
        """New or revised rows in; the statuses to send (again), ``"d,t,v1,v2[,v3,v4]"``: for
        each day touched, from its earliest changed row on."""
    @property
    def stale_rows(self) -> int:
        """Rows for days older than the ones kept for revisions (two before the newest)."""

def pvoutput_payloads(statuses: list[str]) -> list[str]:
    """Statuses as ``addbatchstatus`` form bodies, ``data=...;...``, at most 30 each."""

def write_tree(directory: str | os.PathLike[str], rows: Iterable[Interval]) -> dict[str, int]:
    """Merge rows (of one time zone) into the tree under ``directory``, as
    :meth:`Intervals.write_tree` does."""

def records_to_arrow(records: Iterable[Record]) -> dict[int, RecordBatches]:
    """Records (from :func:`parse_body`, :func:`parse_device_list`, :attr:`Post.records`...) as
    Arrow batches, one :class:`RecordBatches` per record type, in type order. ``captured_at``
    and ``input`` are null: a record alone does not know its post."""

@final
class RecordBatches:
    """Rows of one schema as Arrow record batches: a record type's columns (the keys of
    :meth:`Record.to_dict`, ``channel``, then ``captured_at`` and ``input``), or intervals'.
    Exported through the Arrow PyCapsule interface: ``pyarrow.table(x)``,
    ``polars.from_arrow(x)``, ``duckdb.sql("select * from x")`` take it without a Python object
    per row."""

    @property
    def record_type(self) -> int | None:
        """The record type of every row; ``None`` for intervals."""
    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
    @property
    def num_rows(self) -> int: ...
    def __len__(self) -> int: ...
    def __arrow_c_schema__(self) -> object:
        """The schema as an ``arrow_schema`` PyCapsule."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The rows as an ``arrow_array_stream`` PyCapsule (each call streams them again)."""
    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the rows (needs pyarrow and pandas)."""
