"""Decode the traffic a SunPower PV Supervisor sends to SunPower's collector.

>>> import sunpower
>>> r = sunpower.parse_line("102\\t51oeIKDhOUeah8+9ZCME")
>>> r.record_type, r.token
(102, '51oeIKDhOUeah8+9ZCME')

The decoding is done by the Rust library ``sunpower-proto`` (compiled module
``sunpower._sunpower``); see ``_sunpower.pyi`` for the documented API.
"""

from ._client import Client, PinMismatch
from ._errors import CaptureError, DecodeError, DecodeWarning, SunpowerError
from ._sunpower import (
    CaptureReader,
    DeviceList,
    DocumentProblem,
    Finding,
    Health,
    Interval,
    Intervals,
    Post,
    PvOutputEncoder,
    Record,
    RecordBatches,
    ArrowStream,
    Session,
    SessionEvent,
    SessionRequest,
    SiteTotals,
    SupervisorInfo,
    TelemetryDecoder,
    Vars,
    __version__,
    hourly_energy,
    interval_fields,
    parse_body,
    parse_device_list,
    parse_line,
    parse_supervisor_info,
    parse_telemetry,
    parse_vars,
    pvoutput_payloads,
    read_capture,
    record_fields,
    records_to_arrow,
    write_tree,
)

__all__ = [
    "Client",
    "PinMismatch",
    "CaptureError",
    "CaptureReader",
    "DecodeError",
    "DecodeWarning",
    "DeviceList",
    "DocumentProblem",
    "Finding",
    "Health",
    "Interval",
    "Intervals",
    "Post",
    "PvOutputEncoder",
    "Record",
    "RecordBatches",
    "ArrowStream",
    "Session",
    "SessionEvent",
    "SessionRequest",
    "SiteTotals",
    "SunpowerError",
    "SupervisorInfo",
    "TelemetryDecoder",
    "Vars",
    "__version__",
    "hourly_energy",
    "interval_fields",
    "parse_body",
    "parse_device_list",
    "parse_line",
    "parse_supervisor_info",
    "parse_telemetry",
    "parse_vars",
    "pvoutput_payloads",
    "read_capture",
    "record_fields",
    "records_to_arrow",
    "write_tree",
]
