"""Arrow export: `pyarrow.table(x)` of every record stream and of `Intervals` equals the
`to_dict()` rows, value for value."""

from __future__ import annotations

import _thread
import datetime
import importlib
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import sunpower

import pcapwriter

pa: Any = pytest.importorskip("pyarrow")

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample.pcap"


def instant(value: Any) -> Any:
    """An RFC 3339 string of to_dict() or a datetime of pyarrow, as a comparable instant."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def assert_rows_equal(table: Any, expected: list[dict[str, Any]]) -> None:
    rows = table.to_pylist()
    assert len(rows) == len(expected)
    times = {f.name for f in table.schema if pa.types.is_timestamp(f.type)}
    for row, want in zip(rows, expected):
        for key, value in want.items():
            if key in times:
                assert row[key] == instant(value), key
            else:
                assert row[key] == value, key
        for key in row.keys() - want.keys():
            if key not in ("captured_at", "input", "channel"):
                assert row[key] is None, key


def test_capture_to_arrow_equals_the_records_to_dict() -> None:
    posts = list(sunpower.read_capture(SAMPLE))
    by_type: dict[int, list[dict[str, Any]]] = {}
    contexts: dict[int, list[tuple[datetime.datetime, str]]] = {}
    for post in posts:
        for r in post.records:
            by_type.setdefault(r.record_type, []).append(r.to_dict())
            contexts.setdefault(r.record_type, []).append((post.captured_at, post.input))
    batches = sunpower.read_capture(SAMPLE).to_arrow()
    assert sorted(batches) == sorted(by_type)
    for record_type, expected in by_type.items():
        x = batches[record_type]
        assert x.record_type == record_type
        assert len(x) == len(expected)
        table = pa.table(x)
        assert table.column_names == x.columns
        assert_rows_equal(table, expected)
        got = [(row["captured_at"], row["input"]) for row in table.to_pylist()]
        assert got == contexts[record_type]


def test_to_arrow_after_iteration_gives_the_rest() -> None:
    reader = sunpower.read_capture(SAMPLE)
    first = next(reader)
    total = sum(len(p.records) for p in sunpower.read_capture(SAMPLE))
    rest = reader.to_arrow()
    assert sum(len(x) for x in rest.values()) == total - len(first.records)


def test_to_arrow_of_chosen_types_builds_only_those() -> None:
    everything = sunpower.read_capture(SAMPLE).to_arrow()
    reader = sunpower.read_capture(SAMPLE)
    chosen = reader.to_arrow({130, 140, 999})
    assert sorted(chosen) == [130, 140]
    for t in chosen:
        assert pa.table(chosen[t]).equals(pa.table(everything[t]))
    # The other types were decoded and counted all the same.
    assert reader.stats["records"] == sum(len(x) for x in everything.values())
    assert sunpower.read_capture(SAMPLE).to_arrow([]) == {}
    with pytest.raises(TypeError):
        sunpower.read_capture(SAMPLE).to_arrow(130)  # type: ignore[arg-type]


def test_records_to_arrow_of_a_body_with_unknown_and_damaged_lines(forum_body: bytes) -> None:
    body = forum_body + b"777\t20170107171000\tSER\tnew\n778\tno-time\n130\tbad\n"
    records = sunpower.parse_body(body, errors="skip")
    batches = sunpower.records_to_arrow(records)
    assert {777, 778} <= set(batches)
    for record_type, x in batches.items():
        expected = [r.to_dict() for r in records if r.record_type == record_type]
        table = pa.table(x)
        assert_rows_equal(table, expected)
        assert table.column("captured_at").null_count == len(expected)
    unknown = pa.table(batches[778]).to_pylist()[0]
    assert unknown["raw"] == ["778", "no-time"] and unknown["timestamp"] is None


def test_intervals_finish_arrow_equals_the_rows() -> None:
    records = [r for post in sunpower.read_capture(SAMPLE) for r in post.records]
    rows, columnar = sunpower.Intervals(tz="America/Los_Angeles"), sunpower.Intervals(
        tz="America/Los_Angeles"
    )
    rows.extend(records)
    columnar.extend(records)
    expected = [row.to_dict() for row in rows.finish()]
    x = columnar.finish_arrow()
    assert x.record_type is None
    table = pa.table(x)
    assert table.column_names == list(expected[0].keys())
    assert_rows_equal(table, expected)


def test_a_requested_schema_is_a_hint_and_the_rows_keep_their_types() -> None:
    # The PyCapsule interface lets a producer leave a requested schema unmet (pyarrow:
    # "casted, if supported by the stream object"); the rows then come in their own types.
    records = [r for post in sunpower.read_capture(SAMPLE) for r in post.records]
    batches = sunpower.records_to_arrow(records)[130]
    own = pa.table(batches)
    wanted = pa.schema([pa.field(f.name, pa.string()) for f in own.schema])
    reader = pa.RecordBatchReader.from_stream(batches, schema=wanted)
    assert reader.schema == own.schema
    table = reader.read_all()
    assert table.num_rows == own.num_rows == len([r for r in records if r.record_type == 130])
    assert table.equals(own)
    # Streams taken and not taken: each capsule releases what it holds once.
    for _ in range(100):
        pa.table(batches)
        batches.__arrow_c_stream__()
        batches.__arrow_c_schema__()
    assert pa.table(batches).equals(own)


def test_to_pandas() -> None:
    pytest.importorskip("pandas")
    batches = sunpower.read_capture(SAMPLE).to_arrow()
    frame = batches[130].to_pandas()
    assert len(frame) == len(batches[130])
    assert "ac_power_kw" in frame.columns


def many_inverters(tmp_path: Path) -> Path:
    """600 posts of 100 inverter lines each: batches of 8,192 rows fill long before the end,
    and the decoding (4,096 packets a step) takes more than one step."""
    frames = []
    for n in range(600):
        ts = f"202606{1 + n // 288:02d}{n % 288 // 12:02d}{n % 12 * 5:02d}00"
        lines = "".join(
            f"130\t{ts}\tS{i}\tAC_Module_Type_C\t\t{100 + n * 0.01:.3f}\t0.3\n" for i in range(100)
        )
        body = f"100\tSPMS\t10\tZT01\t{ts}\n{lines}102\tt\n".encode()
        frames += pcapwriter.post(body, start=1_780_000_000.0 + 60 * n, port=41000 + n, segments=4)
    path = tmp_path / "many.pcap"
    path.write_bytes(pcapwriter.pcap(frames))
    return path


def test_arrow_stream_gives_the_rows_of_to_arrow_lazily(tmp_path: Path) -> None:
    capture = many_inverters(tmp_path)
    whole = sunpower.read_capture(capture).to_arrow()
    total = sum(len(x) for x in whole.values())
    reader = sunpower.read_capture(capture)
    stream = reader.arrow_stream(130)
    assert stream.record_type == 130
    # Nothing is decoded until the stream is read.
    assert reader.stats["records"] == 0
    batches = pa.RecordBatchReader.from_stream(stream)
    assert batches.schema.equals(pa.table(whole[130]).schema)
    first = batches.read_next_batch()
    assert first.num_rows == 8192
    # The first batch came before the end of the capture.
    assert 8192 <= reader.stats["records"] < total
    rest = batches.read_all()
    table = pa.concat_tables([pa.Table.from_batches([first]), rest])
    assert table.num_rows == 60_000
    assert table.equals(pa.table(whole[130]))
    # Every record was decoded and counted, the other types too.
    assert reader.stats["records"] == total
    assert stream.record_type is None
    with pytest.raises(RuntimeError, match="read already"):
        pa.table(stream)


def interrupted(reader: Any, call: Callable[[], object]) -> bool:
    """Runs `call` (a method of `reader`) with a Ctrl-C sent while it is inside, as a user
    would; whether it was interrupted (it may end first)."""
    previous = signal.getsignal(signal.SIGINT)
    busy = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        # Raised only from inside the call (the reader's state held): elsewhere a miss.
        try:
            reader.stats
        except RuntimeError:
            raise KeyboardInterrupt from None

    def interrupt_when_busy() -> None:
        while not busy.is_set():
            try:
                reader.stats
            except RuntimeError:
                busy.set()
                _thread.interrupt_main()
            time.sleep(0.0002)

    signal.signal(signal.SIGINT, on_sigint)
    poller = threading.Thread(target=interrupt_when_busy)
    poller.start()
    try:
        call()
        return False
    except KeyboardInterrupt:
        return True
    finally:
        busy.set()
        poller.join()
        signal.signal(signal.SIGINT, previous)


def test_an_interrupted_write_parquet_says_how_many_records_it_took(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C during `write_parquet()`: the incomplete dataset goes, and the records it had
    taken from the reader are counted in a warning, not silently missing from a second call."""
    capture = many_inverters(tmp_path)
    dataset = tmp_path / "dataset"
    for _ in range(5):
        reader = sunpower.read_capture(capture)
        if interrupted(reader, lambda: reader.write_parquet(dataset)):
            break
        shutil.rmtree(dataset)
    else:
        pytest.skip("write_parquet() ended before the interrupt came, five times")
    assert not dataset.exists()
    message = next(r.getMessage() for r in caplog.records if "write_parquet()" in r.getMessage())
    taken = int(message.split("; ")[1].split()[0])
    assert 0 < taken == reader.stats["records"], message


def test_an_interrupted_to_arrow_hands_its_rows_to_the_next_call(tmp_path: Path) -> None:
    """Ctrl-C during `to_arrow()`: the rows it had built come with the next call, none lost."""
    capture = many_inverters(tmp_path)
    whole = pa.table(sunpower.read_capture(capture).to_arrow()[130])
    for _ in range(5):
        reader = sunpower.read_capture(capture)
        if interrupted(reader, reader.to_arrow):
            break
    else:
        pytest.skip("to_arrow() ended before the interrupt came, five times")
    assert 0 < reader.stats["records"]
    rest = pa.table(reader.to_arrow()[130])
    assert rest.num_rows == whole.num_rows
    assert rest.equals(whole)



def test_a_second_arrow_stream_raises_instead_of_giving_no_rows() -> None:
    reader = sunpower.read_capture(SAMPLE)
    assert pa.table(reader.arrow_stream(130)).num_rows > 0
    with pytest.raises(RuntimeError, match="read to its end"):
        reader.arrow_stream(130)
    reader = sunpower.read_capture(SAMPLE)
    first = reader.arrow_stream(130)
    with pytest.raises(RuntimeError, match="unfinished"):
        reader.arrow_stream(130)
    # Dropped unread, it lets another begin.
    del first
    assert pa.table(reader.arrow_stream(130)).num_rows > 0


def test_rows_a_stream_built_but_its_consumer_left_go_to_the_next_call(tmp_path: Path) -> None:
    capture = many_inverters(tmp_path)
    reader = sunpower.read_capture(capture)
    batches = pa.RecordBatchReader.from_stream(reader.arrow_stream(130))
    first = batches.read_next_batch()
    del batches
    rest = reader.to_arrow()[130]
    assert first.num_rows + len(rest) == 60_000


def test_arrow_stream_of_a_type_the_capture_lacks_is_empty() -> None:
    table = pa.table(sunpower.read_capture(SAMPLE).arrow_stream(999))
    assert table.num_rows == 0
    assert table.schema.names[:2] == ["record_type", "raw"]


def test_arrow_stream_of_an_unreadable_source_ends_with_its_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pcap"
    stream = sunpower.read_capture(SAMPLE, missing).arrow_stream(130)
    with pytest.raises(Exception, match="missing.pcap"):
        pa.table(stream)


def test_duckdb_scans_an_arrow_stream_as_the_table(tmp_path: Path) -> None:
    try:
        duckdb: Any = importlib.import_module("duckdb")
    except ImportError as err:
        pytest.skip(f"duckdb is not installed ({err})")
    capture = many_inverters(tmp_path)
    # Rounded: DuckDB adds doubles in parallel, in no fixed order.
    query = "select count(*), count(distinct serial), round(sum(lifetime_energy_kwh), 6) from rows"
    streamed, whole = duckdb.connect(), duckdb.connect()
    streamed.register("rows", sunpower.read_capture(capture).arrow_stream(130))
    whole.register("rows", pa.table(sunpower.read_capture(capture).to_arrow()[130]))
    result = streamed.sql(query).fetchall()
    assert result == whole.sql(query).fetchall()
    assert result[0][:2] == (60_000, 100)
