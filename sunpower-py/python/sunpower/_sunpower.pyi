"""The compiled module; import its names from :mod:`sunpower`."""

import datetime
import os

from ._errors import DecodeError
from typing import Any, Iterable, Iterator, Literal, Protocol, TypedDict, Union, final, overload

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
    "parse_vars",
    "parse_supervisor_info",
    "parse_telemetry",
    "Vars",
    "DeviceList",
    "DocumentProblem",
    "SupervisorInfo",
    "SiteTotals",
    "Battery",
    "TransferSwitch",
    "SupervisorHealth",
    "TelemetryDecoder",
    "Session",
    "SessionRequest",
    "SessionEvent",
    "Health",
    "Finding",
    "read_capture",
    "record_fields",
    "interval_fields",
    "pvoutput_payloads",
    "write_tree",
    "hourly_energy",
    "records_to_arrow",
    "RecordBatches",
    "ArrowStream",
    "_record_from_line",
    "_record_from_fields",
]

__version__: str

@final
class Record:
    """One record: a line of a POST body, or a device of a JSON source (DeviceList, ``/vars``),
    decoded. Immutable and hashable.

    Every typed field name of any record type is an attribute of every record. An attribute is
    ``None`` when the field was empty, not reported or could not be read *and* when the record's
    type has no such field (``parse_line("102\\tabc").serial is None``): check ``record_type``,
    or ``name in record.to_dict()``, to tell the two apart. Timestamps are aware
    ``datetime.datetime`` objects in UTC.

    Two collector records are equal, and hash alike, when their lines are the same text
    (``raw``); two records of a JSON source when their source and typed values are the same; the
    channel does not count. Records pickle.

    Records are made by :func:`parse_body`, :func:`parse_line`, :func:`parse_device_list` and
    :func:`parse_vars`, not by calling ``Record``.
    """

    @property
    def record_type(self) -> int:
        """Field 0: ``130`` for an inverter, ``140`` for a meter, ..."""
    @property
    def raw(self) -> tuple[str, ...] | None:
        """The line's fields exactly as sent, field 0 included, empty fields kept; ``None`` for
        a record of a JSON source, which has no line."""
    @property
    def source(self) -> Literal["collector", "devicelist", "vars"]:
        """Where the record came from: a collector line, or a JSON source of the local API."""
    @property
    def channel(self) -> Literal["data", "command"] | None:
        """The collector channel of the post the record came in, when known (from a capture)."""
    def to_dict(self) -> dict[str, Any]:
        """The record as one line of ``sunpower parse`` / ``sunpower decode`` JSON Lines.

        The same keys in the same order (``record_type``, ``raw`` or, for a JSON source's record,
        ``source``, ``channel`` when known, then the typed fields of the record's type), with JSON
        values: ``raw`` a list, timestamps
        RFC 3339 strings (``"2017-01-07T17:10:00Z"``), ``None`` for not reported. So
        ``json.dumps(record.to_dict())`` is the command's line.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]: ...

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
    @property
    def import_energy_kwh(self) -> float | None:
        """Lifetime energy from the grid, kWh: only meters from the local API (DeviceList
        ``pos_ltea_3phsum_kwh``, varserver ``posLtea3phsumKwh``) have it; no collector line
        does. In ``to_dict()`` only when the meter reported it or ``export_energy_kwh``."""
    @property
    def export_energy_kwh(self) -> float | None:
        """Lifetime energy to the grid, kWh; like ``import_energy_kwh``."""
    @property
    def lifetime_net_energy_resolution_kwh(self) -> float | None:
        """How finely a JSON source wrote ``lifetime_net_energy_kwh`` (``1.0`` for whole kWh,
        ``0.01`` for two decimals); only meters from the local API have it."""
    @property
    def line_voltage_v(self) -> float | None:
        """Leg 1 to leg 2 voltage, V (varserver ``v12V``); only meters from ``/vars`` have it.
        In ``to_dict()`` only when reported."""
    @property
    def meter_role(self) -> str | None:
        """What a consumption meter measures, ``"net"`` (grid side), ``"load"`` (the house's
        consumption) or ``"unknown"``, as its source says (DeviceList ``subtype``, the
        varserver's livedata, a negative counter or power); only meters from the local API
        have it."""

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

def parse_device_list(data: bytes | bytearray | str) -> DeviceList:
    """Decode a DeviceList JSON document of the PVS local API into records.

    The supervisor becomes a 120 record, each inverter a 130, each meter a 140 (and a 141 where
    the per-leg keys exist): the same typed records as the plain-text stream, so
    :class:`Intervals` works on either. A document that is not a DeviceList, or whose ``result``
    is ``"failed"``, raises :class:`DecodeError` (with its ``kind``); a device that cannot be
    decoded or is not working is in :attr:`DeviceList.problems` and logged on the ``sunpower``
    logger; one of an unknown type is logged and left out.
    """

@final
class DeviceList:
    """A decoded DeviceList document. Immutable. Iterating it, and ``len()``, go over its
    records (``Intervals.extend(parse_device_list(doc))``)."""

    @property
    def records(self) -> tuple[Record, ...]:
        """The records, in device order."""
    @property
    def batteries(self) -> tuple[Battery, ...]:
        """The batteries (``DEVICE_TYPE`` ``Energy Storage System`` and ``Battery``), in
        device order: not records, so not in ``len()`` or iteration."""
    @property
    def problems(self) -> tuple[DocumentProblem, ...]:
        """One problem per device with something that could not be decoded or is not working,
        at its ``device`` (and ``serial``); ``str()`` of each is its message (``"device 1
        (E00121838012345): DATATIME: expected ..."``). A device without a serial or a readable
        time gave no record; any other bad value cost only its field."""
    @property
    def withheld(self) -> int:
        """Keys and values shaped like MAC addresses, withheld from every record and problem (a
        device whose serial is one keeps its records under ``withheld-device-<index>``)."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Record]: ...

def record_fields(
    record_type: int | str,
) -> list[tuple[str, Literal["time", "text", "decimal", "integer", "unsigned"], str | None]]:
    """The typed fields of records of ``record_type``, in ``to_dict()`` order, as the core
    library describes them once: ``(name, type, unit)`` (``("lifetime_energy_kwh", "decimal",
    "kWh")``). Every unknown type has ``timestamp`` and ``serial``. ``record_type`` may also be
    the ``record_type`` of a kind with its own class (``"battery"``: ``Battery``'s fields);
    another name raises ``ValueError``."""

def interval_fields() -> list[
    tuple[
        str,
        Literal["time", "local_time", "decimal", "text", "unsigned", "bool", "flags"],
        str | None,
    ]
]:
    """The columns of an interval row, in the order of every output (the CSV header, the jsonl
    keys, the Arrow columns, ``Interval.to_dict()``), as the core library describes them once:
    ``(name, type, unit)`` (``("production_wh", "decimal", "Wh")``)."""

def _record_from_line(line: str, channel: str | None) -> Record: ...
def _record_from_fields(
    record_type: int, source: str, fields: list[tuple[str, Any]], channel: str | None
) -> Record: ...

def parse_vars(doc: bytes | bytearray | str) -> Vars:
    """Decode a ``/vars`` document of the varserver (PVS6 firmware from build 61840, PVS5 from
    5408): object form (``&fmt=obj``) or array form, flat or nested device paths, or a mix.

    Inverters become 130 records, meters 140 (with ``import_energy_kwh`` and
    ``export_energy_kwh``) and 141 when they report per-leg values: the records captures give,
    so :class:`Intervals` takes them. ``/sys/info/*`` becomes :attr:`Vars.supervisor`,
    ``/sys/livedata/*`` :attr:`Vars.site`. The Wi-Fi SSID and key and MAC addresses are never
    kept (counted in :attr:`Vars.withheld`): a path naming a secret in any segment
    (``/net/sta0/ssid/0``), a MAC-shaped path or value anywhere (``:`` or ``-``, any case); a
    device whose ``sn`` is MAC-shaped keeps its records under ``withheld-<kind>-<index>``. A
    document that is not JSON, not an object, or over 32 MiB raises :class:`DecodeError` (a
    ``bytes`` or ``str`` document is not copied, a ``bytearray`` over the limit is refused
    unread); a value that cannot be read (``1e400``, over 1 KiB, a ``values`` entry that is not
    an object) costs its field, and a device that cannot be decoded is left out, each problem
    in :attr:`Vars.problems` and logged on the ``"sunpower"`` logger. A leading byte-order mark
    is skipped. The decoding runs with the GIL released.
    """

def parse_supervisor_info(doc: bytes | bytearray | str) -> SupervisorInfo:
    """Decode ``/cgi-bin/dl_cgi/supervisor/info`` (``{"result": "succeed", "supervisor":
    {...}}``). Raises :class:`DecodeError` for a document without its ``supervisor`` object or
    whose ``result`` says the request failed."""

def parse_telemetry(frame: bytes | bytearray | str) -> SiteTotals | None:
    """Decode one frame of the PVS6 telemetry WebSocket (``ws://<pvs>:9002``): the site totals
    of a ``power`` notification, ``None`` for any other notification. ``time`` may be seconds or
    milliseconds since 1970, values numbers or strings. A frame that is not a notification, or
    has a bad value, raises :class:`DecodeError`."""

@final
class Vars:
    """A decoded ``/vars`` document. Immutable. ``len(vars)`` is the number of records.

    Nothing is dropped silently: every entry is in a record, ``supervisor``, ``site``,
    ``other``, ``problems``, or counted (``withheld``, ``dropped``, ``other_count``).
    """

    @property
    def records(self) -> tuple[Record, ...]:
        """Every record, device by device (inverters, then meters, each by index)."""
    @property
    def supervisor(self) -> SupervisorInfo | None:
        """``/sys/info/*``, when the document had any."""
    @property
    def site(self) -> SiteTotals | None:
        """``/sys/livedata/*``, when the document had any."""
    @property
    def batteries(self) -> tuple[Battery, ...]:
        """The batteries (``/sys/devices/ess/<i>/``), by index."""
    @property
    def transfer_switches(self) -> tuple[TransferSwitch, ...]:
        """The transfer switches (``/sys/devices/transfer_switch/<i>/``), by index."""
    @property
    def health(self) -> SupervisorHealth | None:
        """The supervisor's health (``/sys/info/*`` usage, ``/sys/pvs/flashwear_type_b``), when
        the document had any of it."""
    @property
    def form(self) -> Literal["object", "array"]: ...
    @property
    def entries(self) -> int:
        """How many path/value entries the document held."""
    @property
    def other(self) -> tuple[tuple[str, str], ...]:
        """Paths not decoded, kept raw as ``(path, value)`` (at most 1000)."""
    @property
    def other_count(self) -> int:
        """How many paths were not decoded, kept in ``other`` or not."""
    @property
    def withheld(self) -> int:
        """How many secret values (Wi-Fi SSID and key, MAC addresses) were seen and not kept; a
        device whose MAC-shaped serial was withheld is kept as ``withheld-<kind>-<index>``."""
    @property
    def dropped(self) -> int:
        """Entries not decoded because of a limit (over 10,000 devices, fields of one object past
        256, problems past 1,000)."""
    @property
    def shared_serials(self) -> int:
        """Devices whose serial another device of the same kind shares (redacted dumps): their
        records are in ``records``, but :meth:`Intervals.add` does not follow their counters."""
    @property
    def problems(self) -> tuple[DocumentProblem, ...]:
        """One problem per device or entry with something that could not be decoded, at its
        ``path``; ``str()`` of each is its message (``"/sys/devices/inverter/3: no sn: a record needs the device's
        serial"``). A device without a serial or a readable time gave no record; any other bad
        value cost only its field."""
    def __len__(self) -> int: ...

_DocumentProblemKind = Literal[
    "too_large",
    "invalid_json",
    "duplicate_key",
    "not_an_object",
    "failed",
    "missing_key",
    "missing_serial",
    "missing_time",
    "invalid_value",
    "repeated_field",
    "too_many_devices",
    "too_many_values",
    "count_mismatch",
    "not_working",
    "time_from_cur_time",
    "unknown_meter_kind",
]

@final
class DocumentProblem:
    """One problem of a JSON document (DeviceList, ``/vars``, telemetry): what (``kind``, with
    the source's ``field`` and the text ``found`` where they apply) and where (``device`` and
    ``serial``, ``path`` or ``frame``, each ``None`` where it does not apply). The same kinds
    for every source. Immutable; ``str()`` is the message."""

    @property
    def kind(self) -> _DocumentProblemKind:
        """What was wrong: the core library's kind in snake case."""
    @property
    def device(self) -> int | None:
        """A DeviceList device's position in its ``devices`` array, from 0."""
    @property
    def serial(self) -> str | None:
        """A DeviceList device's ``SERIAL``, when it has one."""
    @property
    def path(self) -> str | None:
        """A ``/vars`` device's path (``/sys/devices/inverter/3``) or the entry's."""
    @property
    def frame(self) -> int | None:
        """A telemetry frame's number in its stream, from 1."""
    @property
    def field(self) -> str | None:
        """The source's name of the value it is about (``"ltea3phsumKwh"``, ``"DATATIME"``),
        where it is about one."""
    @property
    def found(self) -> str | None:
        """The text found (at most 48 bytes of it), where a value was wrong."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class SupervisorInfo:
    """The supervisor's identity and health: ``/sys/info/*`` of a ``/vars`` document, or
    :func:`parse_supervisor_info`. Immutable; equal by value. Never holds the Wi-Fi SSID or key
    or a MAC address."""

    @property
    def serial(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def hardware_version(self) -> str | None: ...
    @property
    def firmware_version(self) -> str | None: ...
    @property
    def software_version(self) -> str | None:
        """``"2025.09.04.61845"``."""
    @property
    def build(self) -> int | None:
        """``BUILD``, or the build number that ends the software version (``61845``)."""
    @property
    def board_type(self) -> str | None: ...
    @property
    def system_type(self) -> str | None:
        """``"PV-only"``, ``"storage"``."""
    @property
    def finance_type(self) -> str | None: ...
    @property
    def active_interface(self) -> str | None:
        """``"sta0"`` is Wi-Fi."""
    @property
    def uptime_s(self) -> float | None: ...
    @property
    def ram_usage_pct(self) -> float | None: ...
    @property
    def flash_usage_pct(self) -> float | None: ...
    @property
    def cpu_usage_pct(self) -> float | None: ...
    @property
    def other(self) -> tuple[tuple[str, str], ...]:
        """Other supervisor values, kept raw as ``(name, value)``."""
    @property
    def withheld(self) -> int:
        """How many secret values were seen and not kept."""
    @property
    def record_type(self) -> Literal["supervisor_info"]:
        """What the object is, as a record's ``record_type`` says its kind."""
    def to_dict(self) -> dict[str, Any]:
        """As ``sunpower vars`` prints it: ``{"record_type": "supervisor_info", "serial": ...,
        ..., "other": [{"path", "value", "truncated"}], "withheld": n}``."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class Battery:
    """One SunVault battery reading (``/sys/devices/ess/<i>/``, or a DeviceList's battery
    device). Immutable; equal by value.
    State of charge and health are percent, 0 to 100 (the wire's fractions times 100; a wire
    value over 1 is a problem in ``Vars.problems`` and the field ``None``). Power is positive
    when discharging."""

    @property
    def timestamp(self) -> datetime.datetime:
        """``msmtEps`` (aware, UTC)."""
    @property
    def serial(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def operating_mode(self) -> str | None: ...
    @property
    def source(self) -> Literal["vars", "devicelist"]: ...
    @property
    def power_kw(self) -> float | None: ...
    @property
    def discharge_energy_kwh(self) -> float | None:
        """``posLtea3phsumKwh``: lifetime energy discharged, kWh."""
    @property
    def charge_energy_kwh(self) -> float | None:
        """``negLtea3phsumKwh``: lifetime energy charged, kWh."""
    @property
    def leg1_voltage_v(self) -> float | None: ...
    @property
    def leg2_voltage_v(self) -> float | None: ...
    @property
    def soc_pct(self) -> float | None: ...
    @property
    def customer_soc_pct(self) -> float | None: ...
    @property
    def soh_pct(self) -> float | None: ...
    @property
    def inverter_temp_c(self) -> float | None: ...
    @property
    def battery_voltage_v(self) -> float | None: ...
    @property
    def charge_limit_kw(self) -> float | None: ...
    @property
    def discharge_limit_kw(self) -> float | None: ...
    @property
    def max_cell_temp_c(self) -> float | None: ...
    @property
    def min_cell_temp_c(self) -> float | None: ...
    @property
    def max_cell_voltage_v(self) -> float | None: ...
    @property
    def min_cell_voltage_v(self) -> float | None: ...
    @property
    def record_type(self) -> Literal["battery"]:
        """What the object is, as a record's ``record_type`` says its kind."""
    def to_dict(self) -> dict[str, Any]:
        """As ``sunpower vars`` prints it: ``{"record_type": "battery", ...}``."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class TransferSwitch:
    """One Hub+/MIDC transfer switch reading (``/sys/devices/transfer_switch/<i>/``).
    Immutable; equal by value."""

    @property
    def timestamp(self) -> datetime.datetime:
        """``msmtEps`` (aware, UTC)."""
    @property
    def serial(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def mid_state(self) -> str | None:
        """``midStEnum`` as sent: ``"MID_STATE_CLOSED"`` (on grid), ``"MID_STATE_OPEN"``
        (islanded), or another value, kept."""
    @property
    def pv_disconnect_state(self) -> str | None:
        """``pvd1StEnum`` as sent: ``"PVD_STATE_CLOSED"``, ``"PVD_STATE_OPEN"``, or another
        value, kept."""
    @property
    def temperature_c(self) -> float | None: ...
    @property
    def grid_leg1_voltage_v(self) -> float | None: ...
    @property
    def grid_leg2_voltage_v(self) -> float | None: ...
    @property
    def leg1_voltage_v(self) -> float | None: ...
    @property
    def leg2_voltage_v(self) -> float | None: ...
    @property
    def supply_voltage_v(self) -> float | None: ...
    @property
    def record_type(self) -> Literal["transfer_switch"]: ...
    def to_dict(self) -> dict[str, Any]:
        """As ``sunpower vars`` prints it: ``{"record_type": "transfer_switch", ...}``."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class SupervisorHealth:
    """The supervisor's health: ``/sys/info/*`` usage and ``/sys/pvs/flashwear_type_b``.
    Immutable; equal by value. Never holds the Wi-Fi SSID or key or a MAC address."""

    @property
    def timestamp(self) -> datetime.datetime | None: ...
    @property
    def serial(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def software_version(self) -> str | None: ...
    @property
    def build(self) -> int | None: ...
    @property
    def uptime_s(self) -> float | None: ...
    @property
    def ram_usage_pct(self) -> float | None: ...
    @property
    def memory_used_kb(self) -> int | None: ...
    @property
    def cpu_usage_pct(self) -> float | None: ...
    @property
    def cpu_load(self) -> float | None: ...
    @property
    def flash_usage_pct(self) -> float | None: ...
    @property
    def flash_available_kb(self) -> int | None: ...
    @property
    def flash_wear_pct(self) -> float | None:
        """The eMMC's estimated life used, percent, in 10 % steps; 100 past its rated life."""
    @property
    def record_type(self) -> Literal["supervisor_health"]: ...
    def to_dict(self) -> dict[str, Any]:
        """As ``sunpower vars`` prints it: ``{"record_type": "supervisor_health", ...}``."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class SiteTotals:
    """The supervisor's running totals at one time (``/sys/livedata/*``, or a telemetry
    ``power`` frame). Immutable; equal by value. Powers kW, energies kWh (lifetime counters),
    ``None`` where not reported (``"nan"``). ``site_load = pv + net + battery``: net positive
    for import, battery positive when discharging. :meth:`Intervals.add` takes them."""

    @property
    def timestamp(self) -> datetime.datetime | None:
        """``time`` (aware, UTC)."""
    @property
    def pv_power_kw(self) -> float | None: ...
    @property
    def pv_energy_kwh(self) -> float | None: ...
    @property
    def net_power_kw(self) -> float | None: ...
    @property
    def net_energy_kwh(self) -> float | None: ...
    @property
    def site_load_power_kw(self) -> float | None: ...
    @property
    def site_load_energy_kwh(self) -> float | None: ...
    @property
    def battery_power_kw(self) -> float | None: ...
    @property
    def battery_energy_kwh(self) -> float | None: ...
    @property
    def battery_soc_pct(self) -> float | None:
        """Percent, 0 to 100 (``soc`` is a fraction on the wire: 0.86 is 86.0)."""
    @property
    def backup_time_remaining_min(self) -> float | None: ...
    @property
    def carried(self) -> list[str]:
        """The keys the reading's own frame (or document) carried, in the sources' order
        (``["time", "pv_en"]``): a telemetry frame may carry only some, the others holding the
        values last seen."""
    @property
    def midstate(self) -> int | None: ...
    @property
    def record_type(self) -> Literal["site_totals"]:
        """What the object is, as a record's ``record_type`` says its kind."""
    def to_dict(self) -> dict[str, Any]:
        """As ``sunpower vars`` and ``sunpower telemetry`` print it: ``{"record_type":
        "site_totals", "timestamp": "2025-06-28T04:02:25Z", "pv_power_kw": ..., ...}``."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class TelemetryDecoder:
    """A telemetry stream, with counts kept across calls. :meth:`decode` takes one frame (a
    WebSocket client's message); :meth:`feed` takes a stream of one frame a line in chunks of
    any size (``websocat ws://PVS:9002`` output) and :meth:`finish` ends it. One thread at a
    time."""

    def __new__(cls) -> TelemetryDecoder: ...
    def decode(self, frame: bytes | bytearray | str) -> SiteTotals | None:
        """The site totals of a ``power`` frame; ``None`` for a blank frame or another
        notification (counted). A bad frame raises :class:`DecodeError` (with its ``kind``;
        ``frame`` is its number in the stream)."""
    def feed(self, chunk: bytes) -> list[SiteTotals]:
        """The totals of each ``power`` frame whose line ended in ``chunk``. Bad frames are
        logged on the ``"sunpower"`` logger (at most 100, then counted) and counted."""
    def finish(self) -> list[SiteTotals]:
        """The totals of a last frame without a line end."""
    @property
    def stats(self) -> dict[str, int]:
        """``frames``, ``power``, ``other_notifications``, ``blank``, ``errors``,
        ``unknown_params``, ``without_time``."""

@final
class Finding:
    """A fault of a device (or of the supervisor's data) over a period, or its recovery, with
    its evidence. Immutable. ``str()`` is a sentence; :meth:`to_dict` the keys of ``sunpower
    health --format jsonl``."""

    @property
    def kind(self) -> Literal[
        "not_reporting",
        "reporting_zero",
        "underperforming",
        "stale",
        "gap",
        "counter_reset",
        "counter_glitch",
        "comm_errors",
        "memory_high",
        "flash_full",
        "flash_wear",
        "battery_soh_falling",
        "battery_not_reporting",
    ]: ...
    @property
    def status(self) -> Literal["fault", "recovered"]: ...
    @property
    def severity(self) -> Literal["critical", "warning", "info"]: ...
    @property
    def serial(self) -> str | None:
        """The device's serial; ``None`` for the supervisor's data (a gap)."""
    @property
    def record_type(self) -> int | None: ...
    @property
    def start(self) -> datetime.datetime: ...
    @property
    def end(self) -> datetime.datetime: ...
    @property
    def produced_kw(self) -> float | None:
        """What the device produced (kW)."""
    @property
    def peers_median_kw(self) -> float | None:
        """The array's median at the same times (kW)."""
    @property
    def samples(self) -> int: ...
    @property
    def bad_samples(self) -> int: ...
    @property
    def days(self) -> int: ...
    @property
    def value(self) -> float | None:
        """The kind's own measure: ``memory_high`` and ``flash_full``, the percent used;
        ``flash_wear``, the percent of the flash's life used; ``battery_soh_falling``, the
        state of health in percent (the lowest)."""
    @property
    def evidence_text(self) -> str:
        """The evidence in a few words, as ``sunpower health`` shows it."""
    def to_dict(self) -> dict[str, Any]: ...

@final
class Health:
    """Health findings of records, fed like :class:`Intervals`: :meth:`add` a record, a
    :class:`Vars` or :class:`DeviceList` document, a telemetry frame's :class:`SiteTotals` or a
    :class:`Battery`, :meth:`extend` an iterable; :meth:`take_findings` as days complete,
    :meth:`finish` at the end, each worst first. Rules, thresholds and texts are the core
    library's, the same as ``sunpower health``'s. One thread at a time."""

    def __new__(cls, tz: str = "UTC", *, captures: bool = False) -> Health:
        """Local days in the IANA zone ``tz``; ``captures=True`` for a capture's records fed
        with :meth:`advance_to` at each post."""
    def add(self, item: Record | Vars | DeviceList | SiteTotals | Battery) -> None: ...
    def extend(self, items: Iterable[Record | Vars | DeviceList | SiteTotals | Battery]) -> None: ...
    def advance_to(self, now: datetime.datetime) -> None:
        """The capture clock (a post's ``captured_at``)."""
    def take_findings(self) -> list[Finding]: ...
    def finish(self) -> list[Finding]: ...
    def finish_arrow(self) -> RecordBatches:
        """Every finding left (as :meth:`finish` returns them, worst first) as Arrow batches,
        the columns of :meth:`Finding.to_dict`."""
    @property
    def late_readings(self) -> int:
        """Readings that came after their day was judged, ignored."""

@final
class SessionRequest:
    """One HTTPS GET to send to the supervisor (its certificate is self-signed). Send
    :attr:`headers` with it and never log them: ``repr()`` withholds them."""

    @property
    def purpose(self) -> Literal["identify", "login", "enable_telemetry", "poll", "devicelist"]:
        """What the request is for."""
    @property
    def query(self) -> Literal["inverters", "meters", "site_totals", "batteries", "transfer_switches"] | None:
        """For a poll, what it asks for; else ``None``."""
    @property
    def path(self) -> str:
        """Path and query, such as ``/vars?match=inverter&fmt=obj``."""
    @property
    def headers(self) -> dict[str, str]:
        """``Authorization`` (the login) or ``Cookie`` (after it), or empty."""

@final
class SessionEvent:
    """What a :class:`Session` found: :attr:`kind` says which; the attributes of that kind are
    set, the others ``None``."""

    @property
    def kind(self) -> Literal[
        "identified",
        "source_changed",
        "logged_in",
        "vars",
        "devicelist",
        "inverters_missing",
        "telemetry_enabled",
        "telemetry_unavailable",
        "failed",
    ]: ...
    @property
    def source(self) -> Literal["varserver", "devicelist"] | None:
        """identified, source_changed: the source now read."""
    @property
    def info(self) -> SupervisorInfo | None:
        """identified: the supervisor's info."""
    @property
    def query(self) -> str | None:
        """vars: what was asked for (``"inverters"``...)."""
    @property
    def vars(self) -> Vars | None:
        """vars: the decoded document."""
    @property
    def devicelist(self) -> DeviceList | None:
        """devicelist: the decoded document."""
    @property
    def status(self) -> int | None:
        """source_changed, telemetry_unavailable: the HTTP status answered."""
    @property
    def answered(self) -> int | None:
        """inverters_missing: inverters in this answer."""
    @property
    def expected(self) -> int | None:
        """inverters_missing: the most seen in one answer."""
    @property
    def purpose(self) -> str | None:
        """failed: what the request was for."""
    @property
    def problem(self) -> str | None:
        """failed: what went wrong (a status, an unreadable answer, no connection)."""
    @property
    def retry_at(self) -> datetime.datetime | None:
        """failed: when the session will try again."""

@final
class Session:
    """A session with a supervisor's local API, without I/O: ask for the next request
    (:meth:`next_request`), send it with any HTTP client, hand the answer back
    (:meth:`handle_response`, or :meth:`handle_failure` when none came), and sleep until
    :meth:`next_wakeup`. It identifies the supervisor, picks the varserver or the DeviceList,
    logs in (``ssm_owner`` and the serial's last five characters), polls no faster than every
    300 s unless ``poll_faster_than_five_minutes_at_the_risk_of_the_supervisor``, logs in again
    when the cookie expires, backs off (30 s to 30 minutes) while the supervisor is down, and
    enables the telemetry WebSocket only when ``enable_telemetry``. One thread at a time."""

    def __new__(
        cls,
        *,
        serial: str | None = None,
        poll_every: float = 300.0,
        poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: bool = False,
        enable_telemetry: bool = False,
    ) -> Session: ...
    def next_request(self, now: datetime.datetime) -> SessionRequest | None:
        """The request to send at ``now`` (aware), or ``None`` if none is due or one waits for
        its answer."""
    def next_wakeup(self) -> datetime.datetime | None:
        """When a request will next be due; ``None`` while one waits for its answer."""
    def handle_response(
        self, now: datetime.datetime, status: int, body: bytes, set_cookie: str | None = None
    ) -> list[SessionEvent]:
        """The answer to the request sent; returns what the session found."""
    def handle_failure(
        self, now: datetime.datetime, failure: Literal["connect", "tls", "timeout", "cut"]
    ) -> list[SessionEvent]:
        """No answer came; returns the ``failed`` event, with ``retry_at``."""
    @property
    def source(self) -> Literal["varserver", "devicelist"]:
        """The source being read."""

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
    def to_arrow(self, record_types: Iterable[int] | None = None) -> dict[int, RecordBatches]:
        """The rest of the capture (what iteration has not handed out) as Arrow batches, one
        :class:`RecordBatches` per record type, in type order. Decoded and built without the
        GIL and without a Python object per record; problems are logged as iterating logs
        them. ``pyarrow.table(batches[130])``, ``polars.from_arrow(...)``, DuckDB. With
        ``record_types``, only those types are built (memory for one table, not all); the
        others are decoded and counted in :attr:`stats` all the same. A call interrupted
        (``KeyboardInterrupt``, an error) keeps the rows it had built: the next ``to_arrow``,
        :meth:`write_parquet` or :meth:`arrow_stream` returns them first, so no record is
        lost."""
    def write_parquet(self, directory: str | os.PathLike[str]) -> int:
        """The rest of the capture as the Parquet dataset ``sunpower decode --format parquet``
        writes (``directory/record_type=N/part-NNNNN.parquet``, the library's writer: bounded
        memory, each file synced and renamed into place, ``_SUCCESS`` written last); returns
        the number of files. ``directory`` must be new or empty, or hold what an interrupted
        run left (replaced); else :class:`OSError`. On an error (``KeyboardInterrupt``
        included) the incomplete dataset is removed, and a warning on the ``sunpower`` logger
        says how many records it had taken from this reader (they are not read again:
        ``read_capture`` the capture anew). Decoded and written without the GIL."""
    def arrow_stream(self, record_type: int) -> ArrowStream:
        """The rest of the capture's records of ``record_type`` as a lazy Arrow stream,
        decoded as the consumer reads it: memory holds a batch, not the capture.
        ``pyarrow.RecordBatchReader.from_stream(reader.arrow_stream(130))``,
        ``pyarrow.table(...)``, DuckDB, polars. Problems are logged as iterating logs them; a
        source that cannot be read ends the stream with an error. One stream at a time:
        :class:`RuntimeError` while another of this reader is unfinished, or once the capture
        was read to its end (a second stream would get none or part of the records). Rows a
        stream built but its consumer did not read go to the next Arrow call."""
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

_Added = Literal[
    "stored", "duplicate", "conflict", "beyond_horizon", "ignored", "implausible_time", "other"
]

@final
class Intervals:
    """Energy per interval from records fed in any order, replays and duplicates included.

    The same accumulator as ``sunpower intervals``: see docs/protocol.md, "Energy from the
    records". ``tz`` is the IANA zone of ``Interval.interval_start_local``. By default
    (offline) rows come out of :meth:`finish`, every interval kept to the end whatever the order
    of the records (the library's preset for bodies and documents, which ``sunpower intervals``
    uses too); with ``streaming=True``, :meth:`advance_to` hands out the intervals that became
    ready as the capture clock moves (revisions later; the live preset).
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
    @overload
    def add(self, item: Record | SiteTotals | Battery) -> _Added:
        """Feed one record, one reading of the site totals or a battery (a DeviceList's: a
        ``Vars`` brings its own); says what became of it."""
    @overload
    def add(self, item: Vars | DeviceList) -> tuple[_Added, ...]:
        """Feed a ``/vars`` document (its site totals, its batteries, then its records; those
        whose serial another device of the document shares are not used:
        ``stats["serial_collisions"]``) or a DeviceList (its records, then its batteries), as
        ``sunpower intervals`` does. One outcome per item used."""
    def extend(self, items: Iterable[Record | SiteTotals | Battery | Vars | DeviceList]) -> None:
        """Feed every item of an iterable (``parse_body(...)``, ``post.records``, telemetry
        totals, ``Vars`` documents)."""
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
        idempotent). Returns ``inserted``, ``replaced``, ``kept``, ``files`` (written) and
        ``misplaced`` (rows of another day found in a day's file, in no total).
        Intervals handed out since the last ``write_tree`` by :meth:`finish`,
        :meth:`finish_arrow` or :meth:`advance_to` are not held any more: with nothing left to
        write, :class:`ValueError`; else a warning saying how many are not in this write."""
    @property
    def stats(self) -> dict[str, int]:
        """``records``, ``stored``, ``duplicates``, ``conflicts``, ``beyond_horizon``,
        ``ignored``, ``events_dropped``, ``site_totals`` (readings kept),
        ``serial_collisions`` (device records not used: their serial is shared),
        ``implausible_times`` (records not used: dated before 2000, or alone far from the
        others)."""

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
    def net_source(self) -> Literal["counter", "power", "none"]: ...
    @property
    def inverters_reporting(self) -> int: ...
    @property
    def revised(self) -> bool:
        """Whether this row replaces one emitted before (streaming)."""
    @property
    def flags(self) -> tuple[str, ...]:
        """Names of what was noteworthy: ``"missed_report"``, ``"no_meter"``, ..."""
    @property
    def battery_wh(self) -> float | None:
        """Energy from the battery into the house, Wh (negative while charging); ``None``
        without a battery report."""
    @property
    def battery_soc_pct(self) -> float | None:
        """The battery's state of charge, percent from 0 to 100; ``None`` without a battery
        report."""
    def to_dict(self) -> dict[str, Any]:
        """The row as ``sunpower intervals --format jsonl`` prints it (times as strings), keys in
        the order of ``interval_fields()``."""
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

class _HourlyEnergy(TypedDict):
    start: datetime.datetime
    production_wh: float
    consumption_wh: float
    grid_import_wh: float
    grid_export_wh: float

def hourly_energy(rows: Iterable[Interval]) -> list[_HourlyEnergy]:
    """Energy per hour of rows (of one time zone), as Home Assistant's long-term statistics keep
    it: ``start`` the top of the local hour (aware, UTC; the UTC hour in zones with a half-hour
    offset), each interval's latest revision counted once, hours in order."""

def records_to_arrow(records: Iterable[Record]) -> dict[int, RecordBatches]:
    """Records (from :func:`parse_body`, :func:`parse_device_list`, :attr:`Post.records`...) as
    Arrow batches, one :class:`RecordBatches` per record type, in type order. ``captured_at``
    and ``input`` are null: a record alone does not know its post."""

@final
class ArrowStream:
    """:meth:`CaptureReader.arrow_stream`: a capture's records of one type, decoded as they
    are read through the Arrow PyCapsule interface. Read once."""

    @property
    def record_type(self) -> int | None:
        """The record type of every row; ``None`` once the stream was taken."""
    def __arrow_c_schema__(self) -> object:
        """The schema as an ``arrow_schema`` PyCapsule (the columns of ``to_arrow()[t]``)."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The rows as an ``arrow_array_stream`` PyCapsule; a second call raises.
        ``requested_schema`` is a hint the rows do not follow: they come in their own types."""

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
        """The rows as an ``arrow_array_stream`` PyCapsule (each call streams them again).
        ``requested_schema`` is a hint the rows do not follow: they come in their own types."""
    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the rows (needs pyarrow and pandas)."""
