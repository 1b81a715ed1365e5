"""Issue 15: the `sunpower decode --format parquet` dataset, read back by pyarrow and by DuckDB
(not by the crate that wrote it), equals `sunpower decode`'s JSON Lines, record for record and
value for value, on every capture the tests have: the sample, a rotated gzip copy, generated
captures, and the third-party captures of ../shared/captures (none of which holds a collector
post: their datasets must be empty)."""

from __future__ import annotations

import datetime
import gzip
import importlib
import json
import math
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

import sunpower

import pcapwriter
from testsupport import parquet_support

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample.pcap"
THIRD_PARTY = REPO.parent / "shared" / "captures" / "third_party"
pq: Any = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def cli(sunpower_cli: Path) -> Path:
    if not parquet_support(sunpower_cli):
        pytest.skip(
            f"{sunpower_cli} was built without the `parquet` feature "
            "(SUNPOWER_CLI=a build with --features parquet)"
        )
    return sunpower_cli


def generated(tmp: Path) -> Path:
    """Every record kind, damaged lines, unknown types and odd values in two posts."""
    body = (
        "100\tSPMS\t10\tZT01\t20260601120000\n"
        "120\t20260601120000\tZT01\t3\t0\t1\t2.5\t0\t86400\t0.25\t51200\t123456\n"
        "122\t20260601120000\tZT01\tPVS6\t2025.1\t1.2\tSupervisor \"main\"\tPVS\n"
        "130\t20260601120000\tA1\tAC_Module_Type_C\t\t100.125\t0.3\t245.1\t1.2\t0.31\t59.1\t5.2\t30\t60\t0\n"
        "130\t20260601120000\tA2\tAC_Module_Type_C\t\t\t\t\t\t\t\t\t\t\t\n"
        "131\t20260601120000\tA1\tAC_Module_Type_C\t1\t2\t3\n"
        "140\t20260601120000\tPVS5M508095c\tPVS5M0400c\t125\t-12.5\t0.6\t0.7\t1.3\t0.5\t60\t0\n"
        "141\t20260601120000\tPVS5M508095c\tPVS5M0400c\t1\t2.5\t2.6\t120.1\t120.2\t0.3\t0.31\t7\n"
        "130\tnot a time\tA3\n"
        "999\t20260601120000\tX\tsomething\n"
        "998\tfree text \\ with a backslash\n"
        "102\ttoken\n"
    ).encode()
    later = body.replace(b"20260601120000", b"20260601120500")
    frames = pcapwriter.post(body, start=1_780_000_000.0, port=40001)
    frames += pcapwriter.post(later, start=1_780_000_300.0, port=40002, segments=3)
    path = tmp / "generated.pcap"
    path.write_bytes(pcapwriter.pcap(frames))
    return path


def inputs(tmp: Path) -> Iterator[Path]:
    yield SAMPLE
    gz = tmp / "sample.pcap.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    yield gz
    yield generated(tmp)


def json_value(value: Any) -> Any:
    """A Parquet value as the JSON Lines writes it."""
    if isinstance(value, datetime.datetime):
        assert value.utcoffset() == datetime.timedelta(0)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def decode(cli: Path, capture: Path, out: Path) -> list[dict[str, Any]]:
    """`sunpower decode` of `capture` as JSON Lines, and its Parquet dataset written into `out`."""
    lines = subprocess.run(
        [str(cli), "decode", str(capture)], capture_output=True, check=False
    )
    assert lines.returncode in (0, 1), lines.stderr
    records = [json.loads(line) for line in lines.stdout.splitlines()]
    made = subprocess.run(
        [str(cli), "decode", str(capture), "--format", "parquet", "--output", str(out)],
        capture_output=True, check=False,
    )
    assert made.returncode == lines.returncode, made.stderr
    return records


def parts(dataset: Path, record_type: int) -> list[Path]:
    return sorted((dataset / f"record_type={record_type}").glob("part-*.parquet"))


def assert_dataset_equals(records: list[dict[str, Any]], dataset: Path) -> int:
    types = sorted({r["record_type"] for r in records})
    found = sorted(int(p.name.split("=", 1)[1]) for p in dataset.glob("record_type=*"))
    assert found == types
    for t in types:
        want = [r for r in records if r["record_type"] == t]
        rows: list[dict[str, Any]] = []
        for part in parts(dataset, t):
            rows.extend(pq.read_table(part).to_pylist())
        assert len(rows) == len(want), t
        for i, (row, record) in enumerate(zip(rows, want)):
            # The partition column is in the path only; the post's context is Parquet's own.
            got = {k: json_value(v) for k, v in row.items() if k not in ("captured_at", "input")}
            expected = {k: v for k, v in record.items() if k != "record_type"}
            # A column the record's JSON has no key for (a meter's import/export counters,
            # which only the JSON sources give) is null.
            assert all(got.pop(k) is None for k in set(got) - set(expected)), (t, i)
            assert got == expected, (t, i)
            assert isinstance(row["captured_at"], datetime.datetime) and row["input"]
    return len(records)


def test_every_capture_reads_back_equal_with_pyarrow(cli: Path, tmp_path: Path) -> None:
    total = 0
    for n, capture in enumerate(inputs(tmp_path)):
        dataset = tmp_path / f"dataset-{n}"
        records = decode(cli, capture, dataset)
        assert records, capture
        total += assert_dataset_equals(records, dataset)
    assert total > 2 * 5000


def test_duckdb_reads_the_dataset_as_the_json_lines(cli: Path, tmp_path: Path) -> None:
    try:
        duckdb: Any = importlib.import_module("duckdb")
    except ImportError as err:
        pytest.skip(f"duckdb is not installed ({err})")
    for n, capture in enumerate(inputs(tmp_path)):
        dataset = tmp_path / f"dataset-{n}"
        records = decode(cli, capture, dataset)
        con = duckdb.connect()
        glob = str(dataset / "*" / "*.parquet")
        by_type = dict(
            con.execute(
                "select record_type, count(*) from read_parquet(?, hive_partitioning = true) "
                "group by record_type order by record_type",
                [glob],
            ).fetchall()
        )
        want: dict[int, int] = {}
        for r in records:
            want[r["record_type"]] = want.get(r["record_type"], 0) + 1
        assert {int(k): v for k, v in by_type.items()} == want, capture
        # Value for value on the inverters: DuckDB's rows, in file order, are the JSON's.
        inverters = [r for r in records if r["record_type"] == 130]
        if not inverters:
            continue
        rows = con.execute(
            "select serial, strftime(timestamp at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ'), "
            "lifetime_energy_kwh, ac_power_kw, raw from read_parquet(?) ",
            [[str(p) for p in parts(dataset, 130)]],
        ).fetchall()
        assert [
            (r["serial"], r["timestamp"], r["lifetime_energy_kwh"], r["ac_power_kw"], r["raw"])
            for r in inverters
        ] == [(s, t, e, p, list(raw)) for s, t, e, p, raw in rows]


def test_captures_without_posts_give_empty_datasets(cli: Path, tmp_path: Path) -> None:
    if not THIRD_PARTY.is_dir():
        pytest.skip(f"{THIRD_PARTY} is missing: the third-party captures are not checked")
    captures = sorted(p for p in THIRD_PARTY.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    assert captures
    for n, capture in enumerate(captures):
        dataset = tmp_path / f"third-{n}"
        records = decode(cli, capture, dataset)
        assert records == [], capture
        assert not list(dataset.glob("record_type=*")), capture


def test_write_parquet_writes_the_commands_dataset(cli: Path, tmp_path: Path) -> None:
    for n, capture in enumerate(inputs(tmp_path)):
        records = decode(cli, capture, tmp_path / f"cli-{n}")
        ours = tmp_path / f"package-{n}"
        files = sunpower.read_capture(str(capture)).write_parquet(ours)
        assert files == len(list(ours.glob("record_type=*/part-*.parquet")))
        assert_dataset_equals(records, ours)
    # Into a directory that is not empty: refused, nothing written.
    with pytest.raises(OSError, match="not empty"):
        sunpower.read_capture(str(SAMPLE)).write_parquet(tmp_path / "package-0")
