"""sunpower.Client, the blocking client, against a supervisor served over real TLS on 127.0.0.1
(a self-signed certificate made by openssl): login, polls, a login again after expiry, the pin."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import shutil
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

import sunpower

SERIAL = "ZT01234567890ABCDEF"
AUTH = "Basic " + base64.b64encode(b"ssm_owner:" + SERIAL[-5:].encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    server: "Supervisor"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        status, body, cookie = 404, b"", None
        if self.path == "/cgi-bin/dl_cgi/supervisor/info":
            status = 200
            body = ('{"result":"succeed","supervisor":{"MODEL":"PVS6","SERIAL":"%s","BUILD":61846}}' % SERIAL).encode()
        elif self.path == "/auth?login":
            if self.headers.get("Authorization") == AUTH:
                self.server.logins += 1
                value = "session=py%dsecret" % self.server.logins
                self.server.cookies.append(value)
                status, body, cookie = 200, b"{}", value
            else:
                status = 401
        elif self.path.startswith("/vars?match="):
            if self.headers.get("Cookie") not in self.server.valid:
                status = 401
            elif self.path.startswith("/vars?match=inverter"):
                status = 200
                body = b'{"/sys/devices/inverter/0/sn":"E001","/sys/devices/inverter/0/msmtEps":"2026-07-01T12:00:00Z","/sys/devices/inverter/0/ltea3phsumKwh":"100.5"}'
            else:
                status, body = 200, b"{}"
        if cookie:
            self.server.valid.add(cookie)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", cookie + "; Path=/")
        self.end_headers()
        self.wfile.write(body)


class Supervisor(http.server.ThreadingHTTPServer):
    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.paths: list[str] = []
        self.cookies: list[str] = []
        self.valid: set[str] = set()
        self.logins = 0
        self.fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()


def certificate(directory: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the TLS server")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=pvs6", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    server = Supervisor(*certificate(tmp_path, "a"))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def address(server: Supervisor) -> str:
    return "127.0.0.1:%d" % server.server_address[1]


def test_the_client_logs_in_polls_pins_and_logs_in_again(supervisor: Supervisor) -> None:
    client = sunpower.Client(
        address(supervisor),
        timeout=5.0,
        poll_every=1.0,
        poll_faster_than_five_minutes_at_the_risk_of_the_supervisor=True,
    )
    start = dt.datetime.now(dt.timezone.utc)
    events = list(client.run(until=start + dt.timedelta(seconds=1.5)))
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["identified", "logged_in"]
    assert client.fingerprint == supervisor.fingerprint
    assert client.pinned_on_first_use
    inverters = [e.vars for e in events if e.kind == "vars" and e.query == "inverters"]
    assert inverters and inverters[0] is not None
    assert [r.serial for r in inverters[0].records] == ["E001"]
    # The session ends on the supervisor: one login again, and the polls go on.
    supervisor.valid.clear()
    events = list(client.run(until=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)))
    assert "logged_in" in [e.kind for e in events]
    assert supervisor.logins == 2
    shown = repr(events) + repr([e.vars for e in events])
    for cookie in supervisor.cookies:
        assert cookie.split("=")[1] not in shown
    assert AUTH.split()[1] not in shown


def test_a_certificate_other_than_the_pin_is_refused_before_any_request(supervisor: Supervisor) -> None:
    client = sunpower.Client(address(supervisor), pin="ab" * 32, timeout=5.0)
    events = client.step()
    assert [e.kind for e in events] == ["failed"]
    assert events[0].problem == "the TLS handshake failed"
    assert supervisor.paths == []
    pinned = sunpower.Client(address(supervisor), pin=supervisor.fingerprint.upper(), timeout=5.0)
    assert [e.kind for e in pinned.step()] == ["identified"]
    assert not pinned.pinned_on_first_use


def test_nothing_listening_is_a_connection_failure() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    events = sunpower.Client("127.0.0.1:%d" % port, timeout=2.0).step()
    assert [e.kind for e in events] == ["failed"]
    assert events[0].problem == "no connection"
