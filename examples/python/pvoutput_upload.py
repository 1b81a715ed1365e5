#!/usr/bin/env python3
"""Upload a SunPower system's 5-minute energy to PVOutput (``addbatchstatus.jsp``).

Reads a capture of what the PV Supervisor sends to SunPower (a pcap/pcapng file, several files
of a rotated set, or ``-`` for a live ``tcpdump -w -`` on standard input), computes the energy
per interval with :class:`sunpower.Intervals` in the owner's time zone, and turns each interval
into a PVOutput status with :class:`sunpower.PvOutputEncoder` (which keeps each local day's
running totals across batches):

- ``d``: the local date of the interval's start; ``t``: the local ``hh:mm`` of its *end*, the
  moment the running total is known (``23:59`` for the interval that ends at midnight), as
  ``sunpower intervals --format pvoutput`` writes them; so a day's statuses run 00:05 to 23:59
  and the last one's ``v1`` is the whole day;
- ``v1``: energy generated (Wh) since local midnight, through the end of the interval;
- ``v2``: average power generated (W) over the interval;
- ``v3``: energy consumed (Wh) since local midnight (empty without a consumption meter);
- ``v4``: average power consumed (W) over the interval (empty without a meter report).

Statuses go out 30 to a request (PVOutput's limit without donation), as
``data=d,t,v1,v2,v3,v4;d,t,...``. By default nothing is sent: the requests are printed (URL,
headers with the API key masked, body). ``--send`` posts them with :mod:`urllib.request`,
pausing between requests. The API key and system id come from the environment:
``PVOUTPUT_API_KEY`` and ``PVOUTPUT_SYSTEM_ID``.

    python pvoutput_upload.py --tz America/Los_Angeles capture.pcap          # dry run
    tcpdump -i eth1 -U -w - 'tcp port 80' | python pvoutput_upload.py --send -

Live mode (standard input, or ``--live``) feeds the accumulator in streaming mode and sends the
intervals as they become ready; when an interval is revised (a late or replayed post), the
statuses of its day from that interval on are sent again with the corrected running totals
(PVOutput replaces a status with the same date and time).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Sequence

import sunpower

URL = "https://pvoutput.org/service/r2/addbatchstatus.jsp"
MAX_BATCH = 30  # statuses per request (100 with PVOutput's donation mode)
KEY_ENV = "PVOUTPUT_API_KEY"
SYSTEM_ENV = "PVOUTPUT_SYSTEM_ID"


def request_body(batch: Sequence[str]) -> str:
    """The form body: ``data=`` with statuses (``d,t,v1,v2,v3,v4``) joined by ``;``."""
    return urllib.parse.urlencode({"data": ";".join(batch)}, safe=",;:")


def mask(key: str) -> str:
    """Enough of the key to recognise it, not enough to use it."""
    if len(key) <= 8:
        return "*" * 8
    return "*" * (len(key) - 4) + key[-4:]


def headers(api_key: str, system_id: str) -> dict[str, str]:
    return {
        "X-Pvoutput-Apikey": api_key,
        "X-Pvoutput-SystemId": system_id,
        "X-Rate-Limit": "1",  # ask PVOutput for the X-Rate-Limit-* headers in the answer
        "Content-Type": "application/x-www-form-urlencoded",
    }


class Uploader:
    """Prints (dry run) or posts (``send``) batches of statuses."""

    def __init__(
        self,
        *,
        send: bool,
        api_key: str | None,
        system_id: str | None,
        pause: float,
        out: IO[str],
        url: str = URL,
    ) -> None:
        self.send = send
        self.api_key = api_key or ""
        self.system_id = system_id or ""
        self.pause = pause
        self.out = out
        self.url = url
        self.requests = 0
        self.statuses = 0
        self._last_sent: float | None = None
        self._last_request: float | None = None
        self._pending: dict[tuple[str, ...], str] = {}

    def upload(self, statuses: Sequence[str]) -> None:
        """Sends every status now, 30 to a request."""
        self.offer(statuses)
        self.flush()

    def offer(self, statuses: Sequence[str]) -> None:
        """Live: queues statuses (a later one for the same date and time replaces an earlier one)
        and sends full requests at once, and the rest once ``pause`` seconds have passed since
        the last request: a saved capture piped in goes out in full requests, a live one a post
        at a time."""
        for status in statuses:
            key = tuple(status.split(",", 2)[:2])
            self._pending.pop(key, None)
            self._pending[key] = status
        while len(self._pending) >= MAX_BATCH:
            self._send(self._take(MAX_BATCH))
        due = self._last_request is None or time.monotonic() - self._last_request >= self.pause
        if self._pending and due:
            self.flush()

    def flush(self) -> None:
        while self._pending:
            self._send(self._take(MAX_BATCH))

    def _take(self, n: int) -> list[str]:
        keys = list(self._pending)[:n]
        return [self._pending.pop(k) for k in keys]

    def _send(self, batch: list[str]) -> None:
        body = request_body(batch)
        if self.send:
            self._post(body, len(batch))
        else:
            self._print(body, len(batch))
        self._last_request = time.monotonic()
        self.requests += 1
        self.statuses += len(batch)

    def _print(self, body: str, count: int) -> None:
        shown = headers(
            mask(self.api_key) if self.api_key else f"<{KEY_ENV} not set>",
            self.system_id or f"<{SYSTEM_ENV} not set>",
        )
        print(f"POST {self.url}  ({count} statuses, dry run: not sent)", file=self.out)
        for name, value in shown.items():
            print(f"{name}: {value}", file=self.out)
        print("", file=self.out)
        print(body, file=self.out)
        print("", file=self.out, flush=True)

    def _post(self, body: str, count: int) -> None:
        if self._last_sent is not None:
            wait = self.pause - (time.monotonic() - self._last_sent)
            if wait > 0:
                time.sleep(wait)
        request = urllib.request.Request(
            self.url,
            data=body.encode("ascii"),
            headers=headers(self.api_key, self.system_id),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = response.read().decode("utf-8", "replace").strip()
                remaining = response.headers.get("X-Rate-Limit-Remaining")
                reset = response.headers.get("X-Rate-Limit-Reset")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace").strip()
            raise UploadError(f"PVOutput answered {err.code}: {detail}") from err
        self._last_sent = time.monotonic()
        print(f"sent {count} statuses: {answer}", file=self.out, flush=True)
        if remaining is not None and reset is not None and remaining.strip() == "0":
            # Out of requests for this hour: wait for the reset PVOutput announced.
            wait = float(reset) - time.time()
            if wait > 0:
                print(f"rate limit reached; waiting {wait:.0f} s", file=self.out, flush=True)
                time.sleep(wait)


class UploadError(Exception):
    pass


def default_tz() -> str:
    """The ``TZ`` environment variable as an IANA name, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    for prefix in ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/"):
        if tz.startswith(prefix):
            tz = tz[len(prefix) :]
    return tz or "UTC"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pvoutput_upload.py",
        description="Upload SunPower interval energy to PVOutput (dry run unless --send).",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="CAPTURE",
        help="pcap/pcapng file(s), gzip allowed; several files are one rotated capture; "
        "'-' reads a live capture from standard input",
    )
    parser.add_argument(
        "--tz",
        default=default_tz(),
        help="the system's IANA time zone (default: $TZ, else UTC)",
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help=f"really post to PVOutput (needs ${KEY_ENV} and ${SYSTEM_ENV})",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="streaming mode for files too (standard input always is)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="pause between two requests when sending (default 10)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    api_key = os.environ.get(KEY_ENV, "").strip()
    system_id = os.environ.get(SYSTEM_ENV, "").strip()
    if args.send and not (api_key and system_id):
        print(
            f"pvoutput_upload: --send needs {KEY_ENV} and {SYSTEM_ENV} in the environment",
            file=sys.stderr,
        )
        return 2
    if "-" in args.inputs and len(args.inputs) > 1:
        print("pvoutput_upload: '-' (standard input) cannot be mixed with files", file=sys.stderr)
        return 2
    live = args.live or args.inputs == ["-"]
    try:
        acc = sunpower.Intervals(tz=args.tz, streaming=live)
    except ValueError as err:
        print(f"pvoutput_upload: {err}", file=sys.stderr)
        return 2

    sources = [sys.stdin.buffer if name == "-" else name for name in args.inputs]
    # Each local day's running totals across batches, and the statuses to send again when an
    # interval is revised: the library's encoder, the same as `sunpower intervals`.
    encoder = sunpower.PvOutputEncoder(args.tz)
    uploader = Uploader(
        send=args.send, api_key=api_key, system_id=system_id, pause=args.pause, out=sys.stdout
    )
    try:
        for post in sunpower.read_capture(*sources):
            acc.extend(post.records)
            if live:
                uploader.offer(encoder.push(acc.advance_to(post.captured_at)))
        # Offline: everything now. Live: what the end of the input leaves held back.
        uploader.upload(encoder.push(acc.finish()))
    except sunpower.CaptureError as err:
        print(f"pvoutput_upload: {err}", file=sys.stderr)
        return 1
    except (UploadError, urllib.error.URLError) as err:
        print(f"pvoutput_upload: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    mode = "sent" if args.send else "would send"
    print(
        f"# {mode} {uploader.statuses} statuses in {uploader.requests} requests",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
