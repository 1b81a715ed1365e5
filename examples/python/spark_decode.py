#!/usr/bin/env python3
"""Decode a folder of SunPower captures with Apache Spark, one task per rotated set.

Lists the captures under FOLDER (recursively), groups them into rotated sets, makes a DataFrame
of one row per set (its paths) in one partition per set, and runs ``mapInArrow`` with a function
that decodes each set on an executor with ``sunpower.read_capture(*paths).arrow_stream(t)`` (a
batch at a time, as Spark reads) and yields the Arrow record batches of that record type. The
result is a Spark DataFrame with that type's columns (the ``sunpower decode`` JSON Lines keys,
``channel``, ``captured_at``, ``input``; the unsigned counters as ``bigint``), written as Parquet in the Hive layout of
``sunpower decode --format parquet`` (``OUTPUT/record_type=130/part-....parquet``, the type in
the path only), so ``duckdb_report.py OUTPUT`` reads either. Needs pyspark >= 3.3 (tested with
4), pandas and pyarrow, and Java.

    python spark_decode.py captures/ decoded/                 # local[2], the inverters (130)
    python spark_decode.py --record-type 130 --record-type 140 captures/ decoded/
    python spark_decode.py --daily America/Los_Angeles captures/ decoded/   # and kWh per day
    spark-submit --master yarn spark_decode.py /mnt/captures hdfs:///sunpower/decoded

Rotated sets. The files of one folder whose names are the same once a rotation number after
``.pcap``, ``.pcapng`` or ``.cap`` (and a ``.gz``) is taken away are one set, read as one
capture, in one task: a connection that spans two files decodes whole. Their order is the one
they were written in: ``tcpdump -w capture.pcap -C 100`` writes ``capture.pcap``,
``capture.pcap1``, ``capture.pcap2``... (read in that order, 10 after 9), logrotate renames the
older files ``capture.pcap.1``, ``capture.pcap.2.gz``... (read from the highest number down, the
unnumbered one last). Any other capture file is a set of its own; other names, and hidden files,
are left out. ``--per-file`` makes every file its own task (more parallelism; a post cut by a
file boundary is then lost, and logged). A task holds its set's decoded batches (every type) in
memory: 1.7 MB for a day of the sample's 20-panel home, so keep sets to days or weeks, not
years. Each record type asked for is a pass of its own over the captures (a DataFrame has one
schema).

Paths. FOLDER is listed by the driver and each set read by an executor, at the same path: a
local folder in local mode, else a shared mount (NFS, a FUSE mount of object storage). OUTPUT
is any path Spark writes to (``file:///``, ``hdfs://``, ``s3a://``; without a scheme, the
cluster's default file system); it must not exist yet.

The package on the executors. The decoding runs in the executors' Python, which needs the
``sunpower`` wheel and ``pyarrow``. In local mode (``--master local[N]``, the default) that is
the driver's own environment: the script points ``PYSPARK_PYTHON`` at the Python that runs it.
On a cluster, either install the wheel on every node (``pip install sunpower pyarrow pandas``,
in the image, a bootstrap action or an init script), or ship an environment with the job, as
Spark's "Python Package Management" guide shows::

    python -m venv env && env/bin/pip install sunpower pyarrow pandas venv-pack
    env/bin/venv-pack -o env.tar.gz
    PYSPARK_DRIVER_PYTHON=python PYSPARK_PYTHON=./environment/bin/python \\
        spark-submit --archives env.tar.gz#environment spark_decode.py ...
    # or --conf spark.archives=env.tar.gz#environment
    #    --conf spark.pyspark.python=./environment/bin/python

(conda-pack works the same way). ``--py-files`` ships pure Python (``.py``, ``.zip``) only: it
cannot carry the compiled ``sunpower`` module, so use it for helpers of your own, not for the
package.

Timestamps are instants; the session time zone is UTC, so that they print as the records carry
them, and the Parquet files hold UTC microseconds as the command's do. ``--daily TZ`` also shows
each panel's energy per local day of the zone TZ, read back from the dataset: the rises of its
lifetime counter, as ``duckdb_report.py`` counts them (PROTOCOL.md, "Energy from the records").
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, Tuple

import pyarrow as pa  # type: ignore[import-untyped]

import sunpower

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# `capture.pcap`, then tcpdump -C's `capture.pcap1`, `capture.pcap2`... or logrotate's
# `capture.pcap.1`, `capture.pcap.2.gz`...: the set's name, a dot or not, the number.
ROTATED = re.compile(
    r"^(?P<set>.+\.(?:pcapng|pcap|cap))(?P<dot>\.?)(?P<number>\d*)(?:\.gz)?$", re.IGNORECASE
)

Piece = Tuple[str, str, str]  # (dot, number, path)


def reading_order(pieces: list[Piece]) -> list[str]:
    """The paths of one set in the order they were written: tcpdump's numbers count up from
    the unnumbered first file; logrotate's (``.1``, ``.2``: all numbers after a dot) count down
    to the unnumbered newest one."""
    numbered = [dot for dot, number, _ in pieces if number]
    logrotate = bool(numbered) and all(numbered)

    def key(piece: Piece) -> tuple[int, int, str]:
        _, number, path = piece
        if logrotate:
            return (0, -int(number), path) if number else (1, 0, path)
        return (int(number) if number else -1, 0, path)

    return [path for _, _, path in sorted(pieces, key=key)]


def capture_sets(folder: str | os.PathLike[str], *, per_file: bool = False) -> list[list[str]]:
    """The captures under ``folder`` (recursively) as rotated sets: lists of paths in reading
    order, the sets sorted by their first path. With ``per_file``, one set per file. Hidden
    files and names that are not captures' are left out."""
    sets: dict[tuple[str, str], list[Piece]] = {}
    for path in sorted(Path(folder).rglob("*")):
        match = ROTATED.match(path.name)
        if match is None or path.name.startswith(".") or not path.is_file():
            continue
        key = (str(path), "") if per_file else (str(path.parent), match["set"])
        sets.setdefault(key, []).append((match["dot"], match["number"], str(path)))
    return sorted(reading_order(pieces) for pieces in sets.values())


def arrow_schema(record_type: int) -> pa.Schema:
    """The Arrow schema of the batches this script hands to Spark for ``record_type``: the
    library's own (``read_capture(...).to_arrow()[record_type]``) with its unsigned counters as
    signed 64-bit integers, which Spark has (the cast is checked: a value past 2**63 fails the
    task rather than wrapping)."""
    # A line with the fields every type needs: its batch carries the type's schema.
    line = f"{record_type}\t20000101000000\tS"
    batches = sunpower.records_to_arrow([sunpower.parse_line(line)])[record_type]
    fields = []
    for field in pa.schema(batches):
        if pa.types.is_unsigned_integer(field.type):
            field = field.with_type(pa.int64())
        fields.append(field)
    return pa.schema(fields)


def spark_schema(record_type: int) -> StructType:
    """The Spark schema of the DataFrame of ``record_type``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema(record_type))


def decoder(
    record_type: int,
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function ``mapInArrow`` runs on the executors: batches of rows ``paths`` (one
    rotated set each) in, the set's decoded records of ``record_type`` out."""
    target = arrow_schema(record_type)

    def decode(sets: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in sets:
            for paths in batch.column("paths").to_pylist():
                # Decoded as Spark reads it: a task holds a batch of rows, not its set.
                stream = sunpower.read_capture(*paths).arrow_stream(record_type)
                for rows in pa.RecordBatchReader.from_stream(stream):
                    yield from pa.Table.from_batches([rows]).cast(target).to_batches()

    return decode


def decode(spark: SparkSession, sets: Sequence[Sequence[str]], record_type: int = 130) -> DataFrame:
    """The records of ``record_type`` of every set, as a DataFrame: one task per set."""
    from pyspark.sql.types import ArrayType, StringType, StructField, StructType

    rows = [(list(paths),) for paths in sets]
    paths = StructType([StructField("paths", ArrayType(StringType(), False), False)])
    # One partition per set, so each set is one task (createDataFrame would pack them).
    rdd = spark.sparkContext.parallelize(rows, max(len(rows), 1))
    frame = spark.createDataFrame(rdd, paths)
    return frame.mapInArrow(decoder(record_type), spark_schema(record_type))


def write_dataset(frames: dict[int, DataFrame], output: str) -> None:
    """Each type's DataFrame under ``output/record_type=N/`` (the column in the path only)."""
    for record_type, frame in frames.items():
        # Timestamps as UTC-adjusted microseconds, as the command writes them (not INT96).
        frame.sparkSession.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        target = f"{output.rstrip('/')}/record_type={record_type}"
        frame.drop("record_type").write.mode("errorifexists").parquet(target)


def daily_per_panel(frame: DataFrame, tz: str) -> DataFrame:
    """Energy per inverter (``serial``) per local day of ``tz``, Wh, from a DataFrame of 130
    records: each report's rise of the lifetime counter since the inverter's previous report
    counts in the day of the report (a drop counts nothing, a report seen twice once)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    readings = (
        frame.where(F.col("lifetime_energy_kwh").isNotNull() & F.col("timestamp").isNotNull())
        .groupBy("serial", "timestamp")
        # The first copy captured, as sunpower.Intervals keeps the first of a key.
        .agg(F.min_by("lifetime_energy_kwh", "captured_at").alias("kwh"))
    )
    previous = F.lag("kwh").over(Window.partitionBy("serial").orderBy("timestamp"))
    steps = readings.withColumn("step", F.greatest(F.col("kwh") - previous, F.lit(0.0)))
    local = F.to_date(F.from_utc_timestamp(F.col("timestamp"), tz))
    return (
        steps.groupBy(local.alias("day"), "serial")
        .agg(
            F.round(F.coalesce(F.sum("step"), F.lit(0.0)) * 1000.0, 3).alias("energy_wh"),
            F.count("*").alias("reports"),
        )
        .orderBy("day", "serial")
    )


def session(master: str | None) -> SparkSession:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("sunpower-decode")
    if master:
        builder = builder.master(master)
    if master and master.startswith("local"):
        # Local workers are this Python (with sunpower), not whatever `python3` is on PATH;
        # pyspark reads the variable when the session starts.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark's `timestamp` columns are instants: UTC, so that they print as the records say.
    return builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", help="folder of captures (searched recursively)")
    p.add_argument("output", help="Parquet dataset to write (must not exist)")
    p.add_argument(
        "--record-type",
        type=int,
        action="append",
        help="record type to decode (repeatable; default 130, the inverters)",
    )
    p.add_argument("--per-file", action="store_true", help="one task per file, not per set")
    # Run by spark-submit (or the pyspark shell), whose --master wins: it set the gateway.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    p.add_argument(
        "--master",
        default=None if submitted else "local[2]",
        help="Spark master (default local[2]; under spark-submit, its own)",
    )
    p.add_argument("--daily", metavar="TZ", help="also show Wh per panel per local day in TZ")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sets = capture_sets(args.folder, per_file=args.per_file)
    if not sets:
        print(f"spark_decode: no capture under {args.folder}", file=sys.stderr)
        return 1
    record_types: list[int] = args.record_type or [130]
    if args.daily and 130 not in record_types:
        print("spark_decode: --daily needs --record-type 130", file=sys.stderr)
        return 2
    files = sum(len(s) for s in sets)
    print(f"spark_decode: {files} files in {len(sets)} sets", file=sys.stderr)
    from pyspark.sql import SparkSession

    # A session already running (a notebook, a test) is used and left running.
    started = SparkSession.getActiveSession() is None
    spark = session(args.master)
    try:
        frames = {t: decode(spark, sets, t) for t in record_types}
        write_dataset(frames, args.output)
        if args.daily:
            # From the dataset just written, not decoding the captures again.
            inverters = spark.read.parquet(f"{args.output.rstrip('/')}/record_type=130")
            daily_per_panel(inverters, args.daily).show(n=1000, truncate=False)
    finally:
        if started:
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
