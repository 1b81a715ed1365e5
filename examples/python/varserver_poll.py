#!/usr/bin/env python3
"""Poll a PV Supervisor's varserver (current firmware) and print its energy per interval.

PVS6 firmware from build 61840 (PVS5 from 5408) no longer answers the old DeviceList; it serves
``/vars`` behind a login instead. This script logs in, fetches ``/vars?match=inverter``,
``match=meter`` and ``match=livedata`` (``&fmt=obj``) once per poll, hands each document to
:func:`sunpower.parse_vars` and :class:`sunpower.Intervals`, and prints each interval as it
becomes ready (JSON Lines, or CSV with ``--format csv``).

    python varserver_poll.py --host 192.168.1.50                  # every 5 minutes, forever
    python varserver_poll.py --host 192.168.1.50 --once           # one poll
    python varserver_poll.py --from-file poll1.json poll2.json    # saved documents, no network
    python varserver_poll.py --host 192.168.1.50 --dry-run        # what it would request

Login: ``GET /auth?login`` with HTTP basic auth, user ``ssm_owner``, password the last five
characters of the supervisor's serial (``--serial`` or ``$PVS_SERIAL``; without either it is
read from ``/cgi-bin/dl_cgi/supervisor/info``, which needs no login). The supervisor's
certificate is self-signed: it is accepted for ``--host`` only, and only if it stays the same
(the first one seen is pinned for the run and its SHA-256 printed, so that ``--pin-sha256``
can hold it from then on). The serial, the password and the session cookie are never printed.

The supervisor refreshes its device values about every 5 minutes, and polling it faster is a
known cause of crashes and flash wear: ``--interval`` below 300 s is refused unless
``--i-know-polling-fast-crashes-the-pvs`` is given too.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
from typing import IO, Callable, Iterable, Sequence

import sunpower

USER = "ssm_owner"
MIN_INTERVAL_S = 300.0
UNSAFE_FLAG = "--i-know-polling-fast-crashes-the-pvs"
MATCHES = ("inverter", "meter", "livedata")
INFO_PATH = "/cgi-bin/dl_cgi/supervisor/info"
MAX_BODY = 32 * 1024 * 1024  # what sunpower.parse_vars takes at most
TIMEOUT_S = 30.0


class PollError(Exception):
    """A request failed. The message holds no secret: no body, header or credential."""


def vars_path(match: str) -> str:
    return f"/vars?match={match}&fmt=obj"


class Supervisor:
    """The supervisor's HTTP(S) API at one host: login, then ``/vars`` queries."""

    def __init__(
        self,
        host: str,
        port: int | None,
        *,
        https: bool = True,
        serial: str | None = None,
        pin_sha256: str | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.https = https
        self.serial = serial
        self.pin = pin_sha256.replace(":", "").lower() if pin_sha256 else None
        self.timeout = timeout
        self.session: str | None = None
        # Certificate checks are off in this context only, and it is only ever used to connect
        # to `host`; the pin stands in for them.
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def _connect(self) -> http.client.HTTPConnection:
        if not self.https:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn = http.client.HTTPSConnection(
            self.host, self.port, timeout=self.timeout, context=self.context
        )
        conn.connect()
        sock = conn.sock
        der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        if der is None:
            conn.close()
            raise PollError(f"{self.host}: no certificate")
        seen = hashlib.sha256(der).hexdigest()
        if self.pin is None:
            self.pin = seen
            print(f"{self.host}: certificate SHA-256 {seen} (pass --pin-sha256 to require it)",
                  file=sys.stderr)
        elif not hmac.compare_digest(seen, self.pin):
            conn.close()
            raise PollError(f"{self.host}: certificate SHA-256 {seen} is not the pinned one")
        return conn

    def _get(self, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = self._connect()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise PollError(f"GET {path}: answer over {MAX_BODY} bytes")
            return response.status, response.getheaders(), body
        except (OSError, http.client.HTTPException) as e:
            raise PollError(f"GET {path}: {type(e).__name__}") from None
        finally:
            conn.close()

    def read_serial(self) -> str:
        """The supervisor's serial, from the supervisor-info document (no login)."""
        status, _, body = self._get(INFO_PATH, {})
        if status != 200:
            raise PollError(f"GET {INFO_PATH}: HTTP {status}")
        try:
            serial = sunpower.parse_supervisor_info(body).serial
        except sunpower.DecodeError as e:
            raise PollError(f"GET {INFO_PATH}: {e}") from None
        if not serial or len(serial) < 5:
            raise PollError(f"GET {INFO_PATH}: no serial; give --serial or $PVS_SERIAL")
        return serial

    def login(self) -> None:
        if self.serial is None:
            self.serial = self.read_serial()
        token = base64.b64encode(f"{USER}:{self.serial[-5:]}".encode()).decode()
        status, headers, _ = self._get("/auth?login", {"Authorization": f"basic {token}"})
        if status != 200:
            raise PollError(f"GET /auth?login: HTTP {status} (is the serial right?)")
        for name, value in headers:
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.session = value.split(";", 1)[0][len("session="):]
        if not self.session:
            raise PollError("GET /auth?login: no session cookie in the answer")

    def fetch(self, match: str) -> bytes:
        """One `/vars` document; logs in first, and again once if the session expired."""
        path = vars_path(match)
        for attempt in range(2):
            if self.session is None:
                self.login()
            status, _, body = self._get(path, {"Cookie": f"session={self.session}"})
            if status in (401, 403) and attempt == 0:
                self.session = None
                continue
            if status != 200:
                raise PollError(f"GET {path}: HTTP {status}")
            return body
        raise PollError(f"GET {path}: refused after a new login")


def poll_clock(documents: Iterable[sunpower.Vars]) -> datetime.datetime | None:
    """The latest time the documents report: the clock `Intervals.advance_to` runs on."""
    times = [r.timestamp for d in documents for r in d.records if r.timestamp is not None]
    times += [d.site.timestamp for d in documents if d.site and d.site.timestamp]
    return max(times, default=None)


class Rows:
    """Interval rows out, as JSON Lines or CSV (the columns of `Interval.to_dict`)."""

    def __init__(self, out: IO[str], form: str) -> None:
        self.out = out
        self.form = form
        self.writer: csv.DictWriter[str] | None = None

    def write(self, rows: Iterable[sunpower.Interval]) -> None:
        for row in rows:
            d = row.to_dict()
            if self.form == "jsonl":
                self.out.write(json.dumps(d) + "\n")
                continue
            d["flags"] = " ".join(d["flags"])
            if self.writer is None:
                self.writer = csv.DictWriter(self.out, fieldnames=list(d), lineterminator="\n")
                self.writer.writeheader()
            self.writer.writerow(d)
        self.out.flush()


def feed(acc: sunpower.Intervals, documents: list[sunpower.Vars], rows: Rows) -> None:
    for doc in documents:
        acc.add(doc)
    clock = poll_clock(documents)
    if clock is not None:
        rows.write(acc.advance_to(clock))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Poll a PVS varserver (/vars) and print energy per interval."
    )
    p.add_argument("--host", help="the supervisor's address (192.168.1.50, sunpowerconsole.com)")
    p.add_argument("--port", type=int, help="default 443 (80 with --http)")
    p.add_argument("--http", action="store_true",
                   help="plain HTTP, for a test server: the supervisor itself answers HTTPS")
    p.add_argument("--serial", default=os.environ.get("PVS_SERIAL"),
                   help="the supervisor's serial (default $PVS_SERIAL, else read from "
                        "/cgi-bin/dl_cgi/supervisor/info); its last five characters are the "
                        "password")
    p.add_argument("--pin-sha256", help="the SHA-256 of the supervisor's certificate to require")
    p.add_argument("--interval", type=float, default=MIN_INTERVAL_S,
                   help="seconds between polls (default and minimum 300)")
    p.add_argument(UNSAFE_FLAG, dest="unsafe_fast", action="store_true",
                   help="allow --interval below 300 s, although polling the PVS that often is "
                        "known to crash it and wear its flash")
    p.add_argument("--once", action="store_true", help="poll once, print what is known, stop")
    p.add_argument("--count", type=int, help="stop after this many polls")
    p.add_argument("--dry-run", action="store_true",
                   help="print the requests a poll would make (credentials masked), send none")
    p.add_argument("--from-file", nargs="+", metavar="FILE",
                   help="saved /vars documents instead of the network, one poll each, in order")
    p.add_argument("--tz", default=os.environ.get("TZ") or "UTC",
                   help="IANA zone of interval_start_local (default $TZ, else UTC)")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    return p.parse_args(argv)


def check_interval(args: argparse.Namespace) -> str | None:
    """Why the interval is refused, or None."""
    if args.interval < 0:
        return "--interval must not be negative"
    if args.interval < MIN_INTERVAL_S and not args.unsafe_fast:
        return (
            f"--interval {args.interval:g} is under {MIN_INTERVAL_S:g} s: the PVS refreshes its "
            "values every 5 minutes, and polling it faster is a known cause of crashes and flash "
            f"wear. Add {UNSAFE_FLAG} if you accept that."
        )
    return None


def dry_run(args: argparse.Namespace, out: IO[str]) -> None:
    scheme = "http" if args.http else "https"
    base = f"{scheme}://{args.host}" + (f":{args.port}" if args.port else "")
    if not args.serial:
        out.write(f"GET {base}{INFO_PATH}  (the serial, for the password)\n")
    out.write(f"GET {base}/auth?login  Authorization: basic base64({USER}:*****)\n")
    for match in MATCHES:
        out.write(f"GET {base}{vars_path(match)}  Cookie: session=*****\n")
    once = args.once or args.count == 1
    out.write("once\n" if once else f"every {args.interval:g} s\n")


def main(argv: Sequence[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    refused = check_interval(args)
    if refused:
        print(f"varserver_poll: {refused}", file=sys.stderr)
        return 2
    if not args.from_file and not args.host:
        print("varserver_poll: give --host, or --from-file for saved documents", file=sys.stderr)
        return 2
    if args.dry_run:
        dry_run(args, sys.stdout)
        return 0
    rows = Rows(sys.stdout, args.format)
    acc = sunpower.Intervals(tz=args.tz, streaming=True)

    if args.from_file:
        for name in args.from_file:
            try:
                with open(name, "rb") as f:
                    feed(acc, [sunpower.parse_vars(f.read())], rows)
            except (OSError, sunpower.DecodeError) as e:
                print(f"varserver_poll: {name}: {e}", file=sys.stderr)
                return 1
        rows.write(acc.finish())
        return 0

    pvs = Supervisor(args.host, args.port, https=not args.http, serial=args.serial,
                     pin_sha256=args.pin_sha256)
    polls = 1 if args.once else args.count
    done = 0
    failed = False
    try:
        while polls is None or done < polls:
            started = time.monotonic()
            try:
                documents = [sunpower.parse_vars(pvs.fetch(m)) for m in MATCHES]
            except (PollError, sunpower.DecodeError) as e:
                print(f"varserver_poll: {e}", file=sys.stderr)
                failed = True
            else:
                failed = False
                feed(acc, documents, rows)
            done += 1
            if polls is not None and done >= polls:
                break
            # Polls start at least --interval apart, failed ones included.
            sleep(max(0.0, args.interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    rows.write(acc.finish())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
