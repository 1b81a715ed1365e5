"""examples/python/spark_decode.py and duckdb_report.py: the distributed door.

Inputs are built here from examples/sample.pcap: a folder of two homes' captures, one a single
file and one the same day cut into a rotated set of eleven files (``capture.pcap``,
``capture.pcap1`` ... ``capture.pcap10.gz``, whose numeric order is not their name order). The
expected values come from ``sunpower.read_capture`` and ``sunpower.Intervals`` directly, never
from the scripts.

DuckDB's tests need ``duckdb``, Spark's need ``pyspark`` and a Java runtime; scripts/test-python
installs both packages when it can, and each test says why it is skipped otherwise. Spark runs
one local session (``local[2]``) for the whole module.
"""

from __future__ import annotations

import datetime
import gzip
import importlib.util
import os
import shutil
import struct
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest

import sunpower
from testsupport import load_example, parquet_support

pa: Any = pytest.importorskip("pyarrow")
pq: Any = pytest.importorskip("pyarrow.parquet")

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"
SAMPLE = REPO / "examples" / "sample.pcap"
TZ = "America/Los_Angeles"
DAY = datetime.date(2026, 6, 21)
PIECES = 11

pytestmark = pytest.mark.skipif(
    not (SAMPLE.exists() and EXAMPLES.is_dir()), reason="examples/ not in this tree"
)

Key = tuple[datetime.date, str]


def split_pcap(data: bytes, pieces: int) -> list[bytes]:
    """A little-endian pcap cut at packet boundaries into `pieces` files, each with the header."""
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    header, offset, packets = data[:24], 24, []
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        packets.append(data[offset : offset + 16 + length])
        offset += 16 + length
    per = -(-len(packets) // pieces)
    return [header + b"".join(packets[i : i + per]) for i in range(0, len(packets), per)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """home-a/sample.pcap, home-b/capture.pcap{,1..9,10.gz} (the sample, rotated), and files
    that are not captures."""
    root = tmp_path_factory.mktemp("captures")
    (root / "home-a").mkdir()
    (root / "home-b").mkdir()
    shutil.copyfile(SAMPLE, root / "home-a" / "sample.pcap")
    parts = split_pcap(SAMPLE.read_bytes(), PIECES)
    assert len(parts) == PIECES
    for i, part in enumerate(parts):
        name = "capture.pcap" + (str(i) if i else "")
        if i == PIECES - 1:
            (root / "home-b" / f"{name}.gz").write_bytes(gzip.compress(part))
        else:
            (root / "home-b" / name).write_bytes(part)
    (root / "home-b" / "notes.txt").write_text("not a capture\n")
    (root / "home-a" / ".sample.pcap.swp").write_bytes(b"")
    return root


def expected_sets(folder: Path) -> list[list[str]]:
    b = folder / "home-b"
    rotated = [b / "capture.pcap"] + [b / f"capture.pcap{i}" for i in range(1, PIECES - 1)]
    rotated.append(b / f"capture.pcap{PIECES - 1}.gz")
    return [[str(folder / "home-a" / "sample.pcap")], [str(p) for p in rotated]]


def records_130(paths: list[str]) -> Iterator[sunpower.Record]:
    for post in sunpower.read_capture(*paths):
        yield from (r for r in post.records if r.record_type == 130)


def expected_daily(sets: list[list[str]], tz: str) -> dict[Key, tuple[float, int]]:
    """(Wh, reports) per (local day, serial), from the records: the first reading of each
    (serial, timestamp), each later reading's rise of the lifetime counter in its day."""
    first: dict[tuple[str, datetime.datetime], float] = {}
    for paths in sets:
        for r in records_130(paths):
            assert r.serial is not None and r.timestamp is not None
            assert r.lifetime_energy_kwh is not None
            first.setdefault((r.serial, r.timestamp), r.lifetime_energy_kwh)
    zone = ZoneInfo(tz)
    out: dict[Key, list[float]] = defaultdict(lambda: [0.0, 0])
    previous: dict[str, float] = {}
    for (serial, ts), kwh in sorted(first.items()):
        cell = out[(ts.astimezone(zone).date(), serial)]
        if serial in previous:
            cell[0] += max(kwh - previous[serial], 0.0) * 1000.0
        cell[1] += 1
        previous[serial] = kwh
    return {key: (wh, int(n)) for key, (wh, n) in out.items()}


@pytest.fixture(scope="module")
def sample_daily() -> dict[Key, tuple[float, int]]:
    return expected_daily([[str(SAMPLE)]], TZ)


def test_the_sample_daily_energy_adds_up_to_the_intervals(
    sample_daily: dict[Key, tuple[float, int]],
) -> None:
    """The per-panel expectation itself agrees with sunpower.Intervals, day by day."""
    acc = sunpower.Intervals(tz=TZ)
    for post in sunpower.read_capture(SAMPLE):
        acc.extend(post.records)
    intervals = acc.finish()
    by_day: dict[datetime.date, float] = defaultdict(float)
    for row in intervals:
        by_day[row.interval_start_local.date()] += row.production_wh
    panels: dict[datetime.date, float] = defaultdict(float)
    for (day, _), (wh, _) in sample_daily.items():
        panels[day] += wh
    assert set(panels) == {DAY} and by_day[DAY] > 40_000
    # Intervals round each row to the mWh.
    assert panels[DAY] == pytest.approx(by_day[DAY], abs=0.001 * len(intervals))
    assert all(wh == 0 for day, wh in by_day.items() if day != DAY)
    assert len(sample_daily) == 20 and {n for _, n in sample_daily.values()} == {174}


# Rotated sets ---------------------------------------------------------------------------------


def test_capture_sets_group_rotated_files_in_their_number_order(folder: Path) -> None:
    spark_decode = load_example("spark_decode")
    assert spark_decode.capture_sets(folder) == expected_sets(folder)
    per_file = spark_decode.capture_sets(folder, per_file=True)
    assert sorted(p for s in per_file for p in s) == sorted(
        p for s in expected_sets(folder) for p in s
    )
    assert all(len(s) == 1 for s in per_file) and len(per_file) == PIECES + 1


def test_capture_sets_read_logrotate_sets_oldest_first(tmp_path: Path) -> None:
    names = ["syslog.pcap", "sp.pcap", "sp.pcap.1", "sp.pcap.2.gz", "sp.pcap.10.gz",
             "night.pcapng.gz", "other.pcap1", "readme.md", "sp.pcap.bak"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sp.pcap").write_bytes(b"")  # another folder: another set
    sets = load_example("spark_decode").capture_sets(tmp_path)
    assert sets == [
        [str(tmp_path / "night.pcapng.gz")],
        [str(tmp_path / "other.pcap1")],
        [str(tmp_path / n) for n in ["sp.pcap.10.gz", "sp.pcap.2.gz", "sp.pcap.1", "sp.pcap"]],
        [str(tmp_path / "sub" / "sp.pcap")],
        [str(tmp_path / "syslog.pcap")],
    ]


def test_the_rotated_set_decodes_as_the_whole_sample(folder: Path) -> None:
    whole, rotated = expected_sets(folder)
    assert [r.raw for r in records_130(rotated)] == [r.raw for r in records_130(whole)]


# DuckDB ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_report() -> ModuleType:
    try:
        # By name, so that the tests type-check where duckdb is not installed.
        importlib.import_module("duckdb")
    except ImportError as err:
        pytest.skip(f"duckdb is not installed ({err}): the DuckDB example is not tested")
    return load_example("duckdb_report")


def daily_of(module: ModuleType, dataset: Path) -> dict[Key, tuple[float, int]]:
    rows = module.daily_per_panel(module.connect(), dataset, TZ)
    return {(r.day, r.serial): (r.energy_wh, r.reports) for r in rows}


def assert_daily_equal(
    got: dict[Key, tuple[float, int]], want: dict[Key, tuple[float, int]]
) -> None:
    assert sorted(got) == sorted(want)
    for key, (wh, reports) in want.items():
        assert got[key][0] == pytest.approx(wh, abs=0.0006), key  # the SQL rounds to the mWh
        assert got[key][1] == reports, key


def test_duckdb_report_builds_the_dataset_with_the_package_and_reports_per_panel(
    duckdb_report: ModuleType,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sample_daily: dict[Key, tuple[float, int]],
) -> None:
    dataset = tmp_path / "decoded"
    argv = ["--tz", TZ, "--builder", "package", str(dataset), str(SAMPLE)]
    assert duckdb_report.main(argv) == 0
    out = capsys.readouterr().out
    # The layout of `sunpower decode --format parquet`, the record type in the path only.
    decoded = sunpower.read_capture(SAMPLE).to_arrow()
    # `_SUCCESS`, written last, marks it complete.
    assert sorted(p.name for p in dataset.iterdir()) == sorted(
        [*(f"record_type={t}" for t in decoded), "_SUCCESS"]
    )
    for record_type, batches in decoded.items():
        table = pq.read_table(dataset / f"record_type={record_type}" / "part-00000.parquet")
        assert table.to_pylist() == pa.table(batches).drop_columns(["record_type"]).to_pylist()

    assert_daily_equal(daily_of(duckdb_report, dataset), sample_daily)
    lines = out.splitlines()
    printed: dict[Key, tuple[float, int]] = {}
    for line in lines[2 : lines.index("")]:
        day, serial, kwh, count = line.split()
        printed[(datetime.date.fromisoformat(day), serial)] = (float(kwh) * 1000, int(count))
    assert sorted(printed) == sorted(sample_daily)
    for key, (wh, reports) in sample_daily.items():
        assert printed[key][0] == pytest.approx(wh, abs=0.51) and printed[key][1] == reports
    assert lines[lines.index("Underperformers: below 80% of the day's median") + 1] == "(none)"


def test_duckdb_report_counts_a_record_seen_twice_once(
    duckdb_report: ModuleType, folder: Path, tmp_path: Path,
    sample_daily: dict[Key, tuple[float, int]],
) -> None:
    """Both homes' sets in one dataset: every record twice (the same day, the same panels)."""
    dataset = tmp_path / "decoded"
    first, second = expected_sets(folder)
    duckdb_report.build_with_package(first, dataset)
    again = pa.table(sunpower.read_capture(*second).to_arrow()[130]).drop_columns(["record_type"])
    pq.write_table(again, dataset / "record_type=130" / "part-00001.parquet")
    assert_daily_equal(daily_of(duckdb_report, dataset), sample_daily)
    assert_daily_equal(expected_daily(expected_sets(folder), TZ), sample_daily)


def test_duckdb_report_finds_a_weak_and_a_silent_panel(
    duckdb_report: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    sample_daily: dict[Key, tuple[float, int]],
) -> None:
    dataset = tmp_path / "decoded"
    duckdb_report.build_with_package([str(SAMPLE)], dataset)
    inverters = pq.read_table(dataset / "record_type=130" / "part-00000.parquet").to_pylist()
    model_serial = min(serial for _, serial in sample_daily)
    # WEAK: a copy of one panel whose counter rises half as fast; DEAD: two reports the day
    # before (6 kWh), nothing on the sample's day.
    weak = [dict(r) for r in inverters if r["serial"] == model_serial]
    start = weak[0]["lifetime_energy_kwh"]
    for r in weak:
        r["serial"] = "WEAK"
        r["lifetime_energy_kwh"] = start + (r["lifetime_energy_kwh"] - start) / 2
    dead = [dict(weak[0]), dict(weak[0])]
    for r, hour, kwh in [(dead[0], 18, 100.0), (dead[1], 20, 106.0)]:
        r["serial"], r["lifetime_energy_kwh"] = "DEAD", kwh
        r["timestamp"] = datetime.datetime(2026, 6, 20, hour, tzinfo=datetime.timezone.utc)
    extra = pa.Table.from_pylist(weak + dead, schema=pq.read_schema(
        dataset / "record_type=130" / "part-00000.parquet"
    ))
    pq.write_table(extra, dataset / "record_type=130" / "part-00001.parquet")

    weak_wh = sample_daily[(DAY, model_serial)][0] / 2
    energies = sorted([wh for wh, _ in sample_daily.values()] + [weak_wh, 0.0])
    median = (energies[10] + energies[11]) / 2  # 22 panels that day, DEAD's 0 Wh included
    assert min(wh for wh, _ in sample_daily.values()) >= 0.8 * median

    rows = duckdb_report.underperformers(duckdb_report.connect(), dataset, TZ, 0.8)
    assert [(r.day, r.serial, r.reports) for r in rows] == [(DAY, "DEAD", 0), (DAY, "WEAK", 174)]
    dead_row, weak_row = rows
    assert dead_row.energy_wh == 0 and dead_row.ratio == 0
    assert weak_row.energy_wh == pytest.approx(weak_wh, abs=0.0006)
    assert weak_row.median_wh == pytest.approx(median, abs=0.001)
    assert weak_row.ratio == pytest.approx(weak_wh / median, rel=1e-6)
    # The day before, DEAD was the only panel: nobody to fall behind.
    daily = daily_of(duckdb_report, dataset)
    before_wh, before_reports = daily[(datetime.date(2026, 6, 20), "DEAD")]
    assert before_wh == pytest.approx(6000.0) and before_reports == 2
    assert (DAY, "DEAD") not in daily
    # Just under WEAK's ratio, only the silent panel is left.
    assert [r.serial for r in duckdb_report.underperformers(
        duckdb_report.connect(), dataset, TZ, weak_row.ratio * 0.99
    )] == ["DEAD"]

    assert duckdb_report.main(["--tz", TZ, str(dataset)]) == 0
    out = capsys.readouterr().out.splitlines()
    section = out[out.index("Underperformers: below 80% of the day's median") + 2 :]
    assert [line.split()[1] for line in section] == ["DEAD", "WEAK"]


def test_duckdb_report_falls_back_to_the_package_without_the_cli_feature(
    duckdb_report: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    sunpower_cli: Path, sample_daily: dict[Key, tuple[float, int]],
) -> None:
    dataset = tmp_path / "decoded"
    argv = ["--tz", TZ, "--cli", str(sunpower_cli), str(dataset), str(SAMPLE)]
    assert duckdb_report.main(argv) == 0
    err = capsys.readouterr().err
    if parquet_support(sunpower_cli):
        assert f"written by {sunpower_cli} decode --format parquet" in err
    else:
        assert "written by the sunpower package" in err
    assert_daily_equal(daily_of(duckdb_report, dataset), sample_daily)
    # Missing: the command is not there at all.
    other = tmp_path / "other"
    argv = ["--tz", TZ, "--cli", str(tmp_path / "no-such-sunpower"), str(other), str(SAMPLE)]
    assert duckdb_report.main(argv) == 0
    assert "written by the sunpower package" in capsys.readouterr().err
    # A dataset is written into a new or empty directory only.
    assert duckdb_report.main(["--builder", "package", str(other), str(SAMPLE)]) == 1
    assert "not empty" in capsys.readouterr().err


def test_the_packages_dataset_is_the_commands(
    duckdb_report: ModuleType, tmp_path: Path, sunpower_cli: Path
) -> None:
    if not parquet_support(sunpower_cli):
        pytest.skip(
            f"{sunpower_cli} was built without the `parquet` feature: nothing to compare the "
            "package-built dataset with (SUNPOWER_CLI=a build with --features parquet)"
        )
    ours, theirs = tmp_path / "package", tmp_path / "cli"
    duckdb_report.build_with_package([str(SAMPLE)], ours)
    assert duckdb_report.build_with_cli(str(sunpower_cli), [str(SAMPLE)], theirs)
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
    for partition in ours.glob("record_type=*"):
        mine = pq.read_table(partition / "part-00000.parquet")
        cli = pq.read_table(theirs / partition.name / "part-00000.parquet")
        assert mine.schema.names == cli.schema.names
        assert mine.to_pylist() == cli.to_pylist(), partition.name


# Spark ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session for the module, or a skip that says what is missing."""
    try:
        SparkSession: Any = importlib.import_module("pyspark.sql").SparkSession
    except ImportError as err:
        pytest.skip(f"pyspark is not installed ({err}): the Spark example is not tested")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME): the Spark example is not tested")
    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers need this venv's sunpower
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sunpower-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as err:  # the JVM did not start: Java missing or unusable
        pytest.skip(f"Spark could not start a local session ({err}): not tested")
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        if saved is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = saved


def expected_rows(module: ModuleType, sets: list[list[str]]) -> list[dict[str, Any]]:
    """read_capture(...).to_arrow() of each set, in order, in the script's Spark schema."""
    target = module.arrow_schema(130)
    rows: list[dict[str, Any]] = []
    for paths in sets:
        rows += pa.table(sunpower.read_capture(*paths).to_arrow()[130]).cast(target).to_pylist()
    return rows


def test_spark_decodes_one_task_per_set_record_for_record(spark: Any, folder: Path) -> None:
    spark_decode = load_example("spark_decode")
    sets = spark_decode.capture_sets(folder)
    frame = spark_decode.decode(spark, sets, 130)
    assert frame.rdd.getNumPartitions() == len(sets) == 2
    got = frame.toArrow()
    want = expected_rows(spark_decode, sets)
    assert got.schema.names == list(want[0])
    assert len(want) == 2 * 3480
    assert got.to_pylist() == want
    inputs = [row["input"] for row in want]
    # The rotated set's rows name the piece each post was completed in (night pieces have none).
    assert inputs[:3480] == [sets[0][0]] * 3480
    assert set(inputs[3480:]) <= set(sets[1]) and len(set(inputs[3480:])) > 3


def test_spark_decode_writes_the_dataset_duckdb_reads(
    spark: Any, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    sample_daily: dict[Key, tuple[float, int]],
) -> None:
    spark_decode = load_example("spark_decode")
    output = tmp_path / "decoded"
    argv = ["--record-type", "130", "--record-type", "140", "--daily", TZ, str(folder), str(output)]
    assert spark_decode.main(argv) == 0
    assert spark.sparkContext._jsc is not None, "main stopped the session it did not start"
    out = capsys.readouterr().out

    sets = expected_sets(folder)
    for record_type in (130, 140):
        parts = sorted((output / f"record_type={record_type}").glob("*.parquet"))
        assert len(parts) == 2  # one file per task, each a set
        table = pa.concat_tables([pq.read_table(p) for p in parts])
        want = []
        for paths in sets:
            batches = sunpower.read_capture(*paths).to_arrow()[record_type]
            want += pa.table(batches).drop_columns(["record_type"]).to_pylist()
        assert len(table) == len(want)
        got = table.to_pylist()
        # Spark writes the counters as signed integers; the values are the same.
        assert got == want

    # --daily: each panel's day, from the dataset (both sets, each record counted once).
    shown: dict[Key, tuple[float, int]] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0][:4].isdigit():
            day = datetime.date.fromisoformat(cells[0])
            shown[(day, cells[1])] = (float(cells[2]), int(cells[3]))
    assert_daily_equal(shown, sample_daily)

    try:
        duckdb_report = load_example("duckdb_report")
    except ImportError:
        return  # DuckDB's own tests say why they skip
    assert_daily_equal(daily_of(duckdb_report, output), sample_daily)
