"""A blocking client of a supervisor's local API: :class:`sunpower.Session` driven with Python's
own ``http.client`` and ``ssl``, the certificate pinned as ``sunpower watch`` pins it."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import socket
import ssl
import threading
import time
from typing import Iterator, Literal, Optional

from ._sunpower import Session, SessionEvent, SessionRequest

#: The largest answer read (the decoders' document limit, 64 MiB); past it the answer is cut.
MAX_BODY = 64 * 1024 * 1024


class PinMismatch(ssl.SSLError):
    """The supervisor showed another certificate than the one pinned."""

    def __init__(self, seen: str, pinned: str) -> None:
        super().__init__(f"the supervisor's certificate changed: SHA-256 {seen}, pinned {pinned}")
        self.seen = seen
        self.pinned = pinned


class Client:
    """Talks to the supervisor at ``host`` (``HOST`` or ``HOST:PORT``, HTTPS port 443 unless
    given) with a :class:`~sunpower.Session`: :meth:`step` sends the request due, if any, and
    returns what the session found; :meth:`run` steps until stopped, sleeping in between.

    The supervisor's certificate is self-signed: ``pin`` (its SHA-256 in hex, colons allowed)
    is required when given, else the first certificate seen is pinned (:attr:`fingerprint`,
    :attr:`pinned_on_first_use`). Another certificate is refused before the request (and so
    the credentials) is sent. Every request is bounded by ``timeout`` seconds, connection,
    handshake and whole body included. Headers are never logged or put in an error.

    >>> client = Client("172.27.153.1", poll_every=300.0)
    >>> client.fingerprint is None
    True
    """

    def __init__(
        self,
        host: str,
        *,
        pin: Optional[str] = None,
        timeout: float = 20.0,
        session: Optional[Session] = None,
        serial: Optional[str] = None,
        poll_every: float = 300.0,
        poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: bool = False,
        enable_telemetry: bool = False,
    ) -> None:
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
        self.host = name or host
        self.port = int(port) if port else 443
        self.timeout = timeout
        self.session = session or Session(
            serial=serial,
            poll_every=poll_every,
            poll_faster_than_five_minutes_at_the_risk_of_the_supervisor=(
                poll_faster_than_five_minutes_at_the_risk_of_the_supervisor
            ),
            enable_telemetry=enable_telemetry,
        )
        self.fingerprint: Optional[str] = pin.replace(":", "").lower() if pin else None
        self.pinned_on_first_use = False
        # The supervisor's certificate is self-signed: no authority to check it against, the
        # pin is the check (below).
        self._context = ssl.create_default_context()
        self._context.check_hostname = False
        self._context.verify_mode = ssl.CERT_NONE

    def step(self, now: Optional[dt.datetime] = None) -> list[SessionEvent]:
        """Sends the request due at ``now`` (default: the clock), if any; the session's events."""
        now = now or dt.datetime.now(dt.timezone.utc)
        request = self.session.next_request(now)
        if request is None:
            return []
        try:
            status, body, set_cookie = self._send(request)
        except PinMismatch:
            return self.session.handle_failure(_now(), "tls")
        except ssl.SSLError:
            return self.session.handle_failure(_now(), "tls")
        except (socket.timeout, TimeoutError):
            return self.session.handle_failure(_now(), "timeout")
        except (ConnectionResetError, BrokenPipeError):
            # The connection broke mid-answer.
            return self.session.handle_failure(_now(), "cut")
        except OSError as e:
            # Refused, unreachable, no such host; or broken while being read.
            failure: Literal["connect", "cut"] = (
                "connect" if isinstance(e, (ConnectionRefusedError, socket.gaierror)) or _no_connection(e) else "cut"
            )
            return self.session.handle_failure(_now(), failure)
        except http.client.HTTPException:
            return self.session.handle_failure(_now(), "cut")
        return self.session.handle_response(_now(), status, body, set_cookie)

    def run(
        self, *, stop: Optional[threading.Event] = None, until: Optional[dt.datetime] = None
    ) -> Iterator[SessionEvent]:
        """Steps until ``stop`` is set or ``until`` passes, yielding every event; sleeps until
        the session's next wakeup in between (waking at once when ``stop`` is set)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            now = _now()
            if until is not None and now >= until:
                return
            yield from self.step(now)
            wakeup = self.session.next_wakeup()
            if wakeup is not None:
                wait = (wakeup - _now()).total_seconds()
                if until is not None:
                    wait = min(wait, (until - _now()).total_seconds())
                if wait > 0:
                    stop.wait(min(wait, 60.0))

    def _send(self, request: SessionRequest) -> tuple[int, bytes, Optional[str]]:
        deadline = time.monotonic() + self.timeout
        conn = http.client.HTTPSConnection(
            self.host, self.port, timeout=self.timeout, context=self._context
        )
        try:
            conn.connect()
            sock = conn.sock
            assert isinstance(sock, ssl.SSLSocket)
            der = sock.getpeercert(binary_form=True) or b""
            seen = hashlib.sha256(der).hexdigest()
            if self.fingerprint is None:
                self.fingerprint = seen
                self.pinned_on_first_use = True
            elif seen != self.fingerprint:
                raise PinMismatch(seen, self.fingerprint)
            conn.request("GET", request.path, headers=request.headers)
            response = conn.getresponse()
            chunks = []
            size = 0
            while size <= MAX_BODY:
                if time.monotonic() > deadline:
                    raise socket.timeout("no whole answer in time")
                chunk = response.read(min(65536, MAX_BODY + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return response.status, b"".join(chunks), response.getheader("Set-Cookie")
        finally:
            conn.close()


def _no_connection(e: OSError) -> bool:
    # http.client marks nothing: an errno of a connection attempt is a failure to connect, any
    # other (a read) a cut.
    import errno

    return e.errno in (
        errno.ECONNREFUSED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EADDRNOTAVAIL,
        errno.ETIMEDOUT,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
