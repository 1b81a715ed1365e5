#!/usr/bin/env python3
"""Peak memory of Python's `Intervals` fed a long telemetry stream (issue 25, item 8).

FRAMES frames one a second (production 0.5 Wh a second, net, battery, charge), decoded by
`TelemetryDecoder` and added to `Intervals` offline (the documents' preset) or streaming (the
live preset, `advance_to` each 5 minutes of the stream's time). Prints the peak RSS
(`getrusage`) and the production total, which must be (FRAMES - 1) x 0.5 Wh.

    python benches/scripts/python_telemetry_memory.py 2000000 documents
    python benches/scripts/python_telemetry_memory.py 2000000 streaming

Run it with the interpreter of each build to compare (a virtual environment per wheel).
"""

import datetime
import resource
import sys

import sunpower

T0 = 1759428000


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    streaming = len(sys.argv) > 2 and sys.argv[2] == "streaming"
    decoder = sunpower.TelemetryDecoder()
    acc = sunpower.Intervals(tz="UTC", streaming=streaming)
    last: dict[str, float] = {}

    def keep(rows: list[sunpower.Interval]) -> None:
        # A revision replaces the row of its interval.
        for row in rows:
            d = row.to_dict()
            last[d["interval_start"]] = d["production_wh"] or 0.0

    for s in range(frames):
        frame = (
            '{"notification":"power","params":{"time":%d,"pv_p":"1.8","pv_en":"%.6f",'
            '"net_p":"-0.9","net_en":"%.6f","ess_p":"0.1","ess_en":"%.6f","soc":"0.5"}}'
            % (T0 + s, 1000 + s * 0.0005, 2000 - s * 0.00025, -50 + (s % 7) * 0.0001)
        )
        site = decoder.decode(frame)
        if site is not None:
            acc.add(site)
        if streaming and s % 300 == 0:
            now = datetime.datetime.fromtimestamp(T0 + s, datetime.timezone.utc)
            keep(acc.advance_to(now))
    keep(acc.finish())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "streaming" if streaming else "documents"
    print(f"{frames} frames, {mode}: peak {peak:.1f} MiB, production {sum(last.values()):.1f} Wh")


if __name__ == "__main__":
    main()
