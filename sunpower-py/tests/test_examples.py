"""examples/python/: the PVOutput uploader and the Home Assistant statistics, in dry-run mode,
and the varserver poller against a fake supervisor on 127.0.0.1.

The scripts are loaded by path from the repository, but `sunpower` is the installed wheel
(scripts/test-python runs pytest from this folder, away from the source tree). Nothing here
touches the network beyond 127.0.0.1: the uploader only sends with --send, and the one test that
passes --send stops before reading anything, for want of the API key.
"""

from __future__ import annotations

import datetime
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, cast

import pytest

import sunpower
from testsupport import load_example

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "python"
SAMPLE = REPO / "examples" / "sample.pcap"
TZ = "America/Los_Angeles"
UTC = datetime.timezone.utc

pytestmark = pytest.mark.skipif(
    not (SAMPLE.exists() and EXAMPLES.is_dir()), reason="examples/ not in this tree"
)


def run(name: str, argv: Sequence[str]) -> int:
    main = cast(Callable[[Sequence[str]], int], load_example(name).main)
    return main(list(argv))


@pytest.fixture(scope="module")
def intervals() -> list[sunpower.Interval]:
    """The sample's intervals, computed here, independently of the scripts."""
    acc = sunpower.Intervals(tz=TZ)
    for post in sunpower.read_capture(SAMPLE):
        acc.extend(post.records)
    return acc.finish()


@pytest.fixture(autouse=True)
def no_pvoutput_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PVOUTPUT_API_KEY", raising=False)
    monkeypatch.delenv("PVOUTPUT_SYSTEM_ID", raising=False)


def test_the_examples_use_the_installed_package() -> None:
    load_example("pvoutput_upload")
    assert not Path(sunpower.__file__).resolve().is_relative_to(REPO / "sunpower-py" / "python")


# PVOutput ---------------------------------------------------------------------------------------


def dry_run_requests(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header lines, statuses split into fields) of each request the dry run printed."""
    out: list[tuple[list[str], list[list[str]]]] = []
    heads: list[str] = []
    for line in text.splitlines():
        if line.startswith("POST "):
            heads = [line]
        elif line.startswith("data="):
            statuses = [s.split(",") for s in line[len("data=") :].split(";")]
            out.append((heads, statuses))
        elif line:
            heads.append(line)
    return out


def pvoutput_dry_run(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert run("pvoutput_upload", ["--tz", TZ, *extra, str(SAMPLE)]) == 0
    return capsys.readouterr().out


def test_pvoutput_dry_run_batches_daily_running_totals(
    capsys: pytest.CaptureFixture[str], intervals: list[sunpower.Interval]
) -> None:
    requests = dry_run_requests(pvoutput_dry_run(capsys))
    assert requests
    for heads, statuses in requests:
        assert heads[0].startswith("POST https://pvoutput.org/service/r2/addbatchstatus.jsp")
        assert 1 <= len(statuses) <= 30
    statuses = [status for _, batch in requests for status in batch]
    assert len(statuses) == len(intervals)
    assert all(len(s) <= 6 and len(s[0]) == 8 and len(s[1]) == 5 for s in statuses)

    # The sample is 2026-06-21 in Los Angeles, local midnight to local midnight; its first
    # post carries the interval 23:55-24:00 of the day before: a day not seen from its start,
    # so that status has powers only (v2, v4), no running totals.
    days = {s[0] for s in statuses}
    assert days == {"20260620", "20260621"}
    (before,) = [s for s in statuses if s[0] == "20260620"]
    assert before[1] == "23:59" and before[2] == "" and before[4] == ""
    assert before[3] != "" and before[5] != ""

    day = [s for s in statuses if s[0] == "20260621"]
    ends = [f"{m // 60:02d}:{m % 60:02d}" for m in range(5, 24 * 60, 5)] + ["23:59"]
    assert [s[1] for s in day] == ends[: len(day)]
    v1 = [int(s[2]) for s in day]
    # The first intervals have no consumption (an inverter's first report left the production
    # unknown): their statuses stop at v2.
    v3 = [int(s[4]) for s in day if len(s) > 4]
    assert v1 == sorted(v1) and v3 == sorted(v3)
    assert v1[0] == 0 and v1[-1] > 40_000

    # Whole Wh and W, rounded half away from zero as the command rounds.
    def whole(x: float) -> int:
        return int(math.copysign(math.floor(abs(x) + 0.5), x))

    local_day = datetime.date(2026, 6, 21)
    mine = [r for r in intervals if r.interval_start_local.date() == local_day]
    assert v1[-1] == whole(sum(r.production_wh for r in mine))
    assert v3[-1] == whole(sum(r.consumption_wh or 0.0 for r in mine))
    # v2 and v4 are the intervals' average powers.
    noon = next(r for r in mine if r.interval_start_local.hour == 12)
    (at_noon,) = [s for s in day if s[1] == "12:05"]
    assert int(at_noon[3]) == whole(noon.production_w) > 0
    assert noon.consumption_w is not None and int(at_noon[5]) == whole(noon.consumption_w)


def test_pvoutput_live_mode_ends_with_the_same_day_totals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def last_by_time(text: str) -> dict[tuple[str, str], list[str]]:
        latest: dict[tuple[str, str], list[str]] = {}
        for _, statuses in dry_run_requests(text):
            for s in statuses:
                latest[(s[0], s[1])] = s  # a later status for the same time replaces it
        return latest

    offline = last_by_time(pvoutput_dry_run(capsys))
    live = last_by_time(pvoutput_dry_run(capsys, "--live"))
    assert live == offline


def test_pvoutput_masks_the_api_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "0123456789abcdef0123456789abcdefSECRET42"
    monkeypatch.setenv("PVOUTPUT_API_KEY", key)
    monkeypatch.setenv("PVOUTPUT_SYSTEM_ID", "98765")
    out = pvoutput_dry_run(capsys)
    assert key not in out and "0123456789abcdef" not in out
    keys = {line for line in out.splitlines() if line.startswith("X-Pvoutput-Apikey:")}
    assert keys == {"X-Pvoutput-Apikey: " + "*" * (len(key) - 4) + "ET42"}
    assert "X-Pvoutput-SystemId: 98765" in out.splitlines()


@pytest.mark.parametrize("present", [(), ("PVOUTPUT_API_KEY",), ("PVOUTPUT_SYSTEM_ID",)])
def test_pvoutput_refuses_to_send_without_credentials(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    present: tuple[str, ...],
) -> None:
    for name in present:
        monkeypatch.setenv(name, "x" * 12)
    # A missing file: if the check did not stop it first, the run would fail differently.
    assert run("pvoutput_upload", ["--send", str(SAMPLE.with_name("missing.pcap"))]) == 2
    captured = capsys.readouterr()
    assert "PVOUTPUT_API_KEY" in captured.err and "PVOUTPUT_SYSTEM_ID" in captured.err
    assert captured.out == ""


def test_pvoutput_request_body_joins_the_encoders_statuses() -> None:
    module = load_example("pvoutput_upload")
    statuses = ["20260621,12:00,1500,2400", "20260621,12:05,,2400,,512"]
    assert module.request_body(statuses) == (
        "data=20260621,12:00,1500,2400;20260621,12:05,,2400,,512"
    )


def test_pvoutput_a_saved_capture_piped_in_goes_out_in_full_requests(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pvoutput_upload.py - < saved.pcap` used to plan 286 requests for 288 statuses (one per
    # post); queued until `--pause` has passed or 30 are waiting, they fill whole requests.
    class Stdin:
        buffer = SAMPLE.open("rb")

    monkeypatch.setattr(sys, "stdin", Stdin)
    assert run("pvoutput_upload", ["--tz", TZ, "-"]) == 0
    live = capsys.readouterr()
    requests = dry_run_requests(live.out)
    statuses = [s for _, batch in requests for s in batch]
    # 13 since issue 22 (11 before): intervals whose production an inverter's first report left
    # unknown have no consumption, which changes the day's running v3 in the statuses re-sent.
    assert len(requests) <= 13, len(requests)
    offline = [s for _, batch in dry_run_requests(pvoutput_dry_run(capsys)) for s in batch]
    latest = {(s[0], s[1]): s for s in statuses}
    assert latest == {(s[0], s[1]): s for s in offline}
    assert f"in {len(requests)} requests" in live.err


# Home Assistant ---------------------------------------------------------------------------------


def test_ha_statistics_dry_run(
    capsys: pytest.CaptureFixture[str], intervals: list[sunpower.Interval]
) -> None:
    assert run("ha_statistics", ["--tz", TZ, str(SAMPLE)]) == 0
    doc: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    by_id = {entry["statistic_id"]: entry for entry in doc}
    assert set(by_id) == {
        "sunpower:energy_production",
        "sunpower:energy_consumption",
        "sunpower:grid_import",
        "sunpower:grid_export",
    }
    for statistic_id, entry in by_id.items():
        meta = {k: v for k, v in entry.items() if k != "stats"}
        assert meta["source"] == "sunpower"
        assert meta["unit_of_measurement"] == "kWh"
        assert meta["has_sum"] is True and meta["has_mean"] is False
        assert meta["name"] and meta["mean_type"] == 0 and meta["unit_class"] == "energy"
        starts = [datetime.datetime.fromisoformat(row["start"]) for row in entry["stats"]]
        assert all(s.utcoffset() == datetime.timedelta(0) for s in starts)
        assert all(s.minute == 0 and s.second == 0 and s.microsecond == 0 for s in starts)
        assert all(b - a == datetime.timedelta(hours=1) for a, b in zip(starts, starts[1:]))
        # Local midnight to local midnight, plus the hour of the day before's last interval.
        assert len(starts) == 25
        assert starts[1] == datetime.datetime(2026, 6, 21, 7, tzinfo=UTC)
        sums = [row["sum"] for row in entry["stats"]]
        assert sums == sorted(sums), statistic_id
        assert all(row["state"] >= 0 for row in entry["stats"])

    def total_kwh(values: list[float]) -> float:
        return sum(values) / 1000.0

    expected = {
        "sunpower:energy_production": total_kwh([r.production_wh for r in intervals]),
        "sunpower:energy_consumption": total_kwh([r.consumption_wh or 0.0 for r in intervals]),
        "sunpower:grid_import": total_kwh([max(r.net_wh or 0.0, 0.0) for r in intervals]),
        "sunpower:grid_export": total_kwh([max(-(r.net_wh or 0.0), 0.0) for r in intervals]),
    }
    for statistic_id, kwh in expected.items():
        assert by_id[statistic_id]["stats"][-1]["sum"] == pytest.approx(kwh, abs=0.0006)
    assert expected["sunpower:energy_production"] > 40
    # Import minus export is the net the meter saw.
    net = total_kwh([r.net_wh or 0.0 for r in intervals])
    assert expected["sunpower:grid_import"] - expected["sunpower:grid_export"] == pytest.approx(net)

    # Hourly production matches the intervals of that hour.
    hourly: dict[datetime.datetime, float] = defaultdict(float)
    for r in intervals:
        hourly[r.interval_start.replace(minute=0)] += r.production_wh / 1000.0
    for row in by_id["sunpower:energy_production"]["stats"]:
        start = datetime.datetime.fromisoformat(row["start"])
        assert row["state"] == pytest.approx(hourly[start], abs=0.0006)


def test_ha_statistics_rows_are_what_the_recorder_takes(
    intervals: list[sunpower.Interval],
) -> None:
    module = load_example("ha_statistics")
    build = cast(
        Callable[..., list[tuple[dict[str, Any], list[dict[str, Any]]]]],
        module.build_statistics,
    )
    stats = build(intervals, start_sums={"sunpower:energy_production": 1000.0})
    meta, rows = stats[0]
    assert meta["statistic_id"] == "sunpower:energy_production"
    first = rows[0]["start"]
    assert isinstance(first, datetime.datetime) and first.tzinfo is not None
    assert rows[0]["sum"] == pytest.approx(1000.0)
    assert rows[-1]["sum"] == pytest.approx(1000.0 + sum(r.production_wh for r in intervals) / 1000)
    assert "homeassistant" not in sys.modules
    legacy, _ = build(intervals, legacy_metadata=True)[0]
    assert set(legacy) == {
        "source", "statistic_id", "name", "unit_of_measurement", "has_sum", "has_mean"
    }


def test_pvoutput_dry_run_sends_what_the_command_writes(
    capsys: pytest.CaptureFixture[str], sunpower_cli: Path
) -> None:
    """The uploader and `sunpower intervals --format pvoutput` agree status for status."""
    import subprocess

    ours = [s for _, batch in dry_run_requests(pvoutput_dry_run(capsys)) for s in batch]
    cli = subprocess.run(
        [str(sunpower_cli), "intervals", "--tz", TZ, "--format", "pvoutput", str(SAMPLE)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    theirs = [
        status.split(",")
        for line in cli.splitlines()
        for status in line[len("data=") :].split(";")
    ]
    # The command writes empty trailing fields; the uploader leaves them out.
    def trimmed(fields: list[str]) -> list[str]:
        while fields and fields[-1] == "":
            fields = fields[:-1]
        return fields

    assert [trimmed(s) for s in ours] == [trimmed(s) for s in theirs]


# varserver polling ------------------------------------------------------------------------------

PVS_SERIAL = "ZT0123456789QX7Z4"  # the password is its last five characters
PVS_SECRETS = (
    "QX7Z4", PVS_SERIAL, "HomeNet-Secret-5G", "wpa-passphrase-horse", "3c:22:fb:91:0a:7e"
)
T0 = datetime.datetime(2025, 9, 30, 15, 50, tzinfo=UTC)


def vars_poll(n: int, match: str) -> dict[str, str]:
    """The answer to `/vars?match=<match>` at poll `n`: two inverters and a consumption meter
    whose counters rise each poll, 5 minutes apart, and (as a careless `match` would) the
    supervisor's Wi-Fi secrets."""
    when = T0 + datetime.timedelta(minutes=5 * n)
    eps = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {
        "/sys/info/ssid": PVS_SECRETS[2],
        "/sys/info/wpa_key": PVS_SECRETS[3],
        "/sys/info/lmac": PVS_SECRETS[4],
    }
    if match == "inverter":
        for i, (sn, kwh) in enumerate([("E001", 1000.0), ("E002", 2000.0)]):
            fields = {"sn": sn, "msmtEps": eps, "ltea3phsumKwh": f"{kwh + 0.02 * (i + 1) * n:.6f}",
                      "p3phsumKw": "0.240000"}
            doc.update({f"/sys/devices/inverter/{i}/{k}": v for k, v in fields.items()})
    elif match == "meter":
        fields = {"sn": "PVS6M0001c", "msmtEps": eps, "p3phsumKw": "0.600000",
                  "netLtea3phsumKwh": f"{5000.0 + 0.05 * n:.6f}",
                  "posLtea3phsumKwh": f"{9000.0 + 0.05 * n:.6f}",
                  "negLtea3phsumKwh": "4000.000000"}
        doc.update({f"/sys/devices/meter/1/{k}": v for k, v in fields.items()})
    else:
        doc.update({"/sys/livedata/time": str(int(when.timestamp())),
                    "/sys/livedata/pv_en": f"{3000.0 + 0.06 * n:.6f}",
                    "/sys/livedata/net_en": f"{5000.0 + 0.05 * n:.6f}",
                    "/sys/livedata/ess_en": "nan", "/sys/livedata/soc": "nan"})
    return doc


class FakePvs:
    """A supervisor on 127.0.0.1: supervisor info, login, `/vars`; sessions expire after each
    poll, so the client has to log in again. Counts what it was asked."""

    def __init__(self, certificate: tuple[Path, Path] | None = None) -> None:
        import http.server
        import ssl
        import threading

        self.requests: list[str] = []
        self.logins = 0
        self.poll = 0
        self.session: str | None = None
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def answer(self, status: int, body: bytes = b"", cookie: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if cookie:
                    self.send_header("Set-Cookie", f"session={cookie}; Path=/; HttpOnly")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                import base64
                from urllib.parse import parse_qs, urlsplit

                fake.requests.append(self.path)
                url = urlsplit(self.path)
                if url.path == "/cgi-bin/dl_cgi/supervisor/info":
                    info = {"result": "succeed", "supervisor": {"SERIAL": PVS_SERIAL}}
                    return self.answer(200, json.dumps(info).encode())
                if url.path == "/auth" and url.query == "login":
                    token = base64.b64encode(f"ssm_owner:{PVS_SERIAL[-5:]}".encode()).decode()
                    if self.headers.get("Authorization") != f"basic {token}":
                        return self.answer(401)
                    fake.logins += 1
                    fake.session = f"s3ss10n-{fake.logins}-tok3n"
                    return self.answer(200, b"{}", cookie=fake.session)
                if url.path == "/vars":
                    if self.headers.get("Cookie") != f"session={fake.session}":
                        return self.answer(401)
                    query = parse_qs(url.query)
                    assert query["fmt"] == ["obj"]
                    (match,) = query["match"]
                    body = json.dumps(vars_poll(fake.poll, match)).encode()
                    # The state moves before the answer goes: the client may ask its next
                    # question as soon as it has read this one, before this thread runs again
                    # (it did under qemu: the second poll's inverters were the first's).
                    if match == "livedata":
                        fake.poll += 1
                        fake.session = None  # expired: the next poll logs in again
                    return self.answer(200, body)
                return self.answer(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate[0]), str(certificate[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_pvs() -> Iterator[FakePvs]:
    pvs = FakePvs()
    yield pvs
    pvs.close()


def poll_main(argv: Sequence[str], sleeps: list[float] | None = None) -> int:
    main = cast(Callable[..., int], load_example("varserver_poll").main)
    return main(list(argv), sleep=(sleeps if sleeps is not None else []).append)


def expected_rows(polls: int) -> list[sunpower.Interval]:
    """The same polls computed here with the library, independently of the script."""
    acc = sunpower.Intervals()
    for n in range(polls):
        for match in ("inverter", "meter", "livedata"):
            acc.add(sunpower.parse_vars(json.dumps(vars_poll(n, match))))
    return acc.finish()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (*PVS_SECRETS, "s3ss10n"):
            assert secret not in text, secret


def test_varserver_poll_logs_in_polls_and_prints_the_counter_differences(
    capsys: pytest.CaptureFixture[str], fake_pvs: FakePvs
) -> None:
    sleeps: list[float] = []
    argv = ["--host", "127.0.0.1", "--port", str(fake_pvs.port), "--http", "--count", "3",
            "--interval", "0", "--i-know-polling-fast-crashes-the-pvs"]
    assert poll_main(argv, sleeps) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [r.to_dict() for r in expected_rows(3)]
    assert len(rows) == 3
    for row in rows[1:]:
        # 20 Wh and 40 Wh a poll from the inverters, 50 Wh from the meter.
        assert row["production_wh"] == pytest.approx(60.0, abs=1e-6)
        assert row["net_wh"] == pytest.approx(50.0, abs=1e-6)
        assert row["net_source"] == "counter"
    assert fake_pvs.requests[0] == "/cgi-bin/dl_cgi/supervisor/info"
    assert fake_pvs.logins == 3  # once, then again after each expiry
    # Each later poll's first query meets the expired session (401), logs in and asks again.
    poll = [f"/vars?match={m}&fmt=obj" for m in ("inverter", "meter", "livedata")]
    assert [r for r in fake_pvs.requests if r.startswith("/vars")] == (
        poll + [poll[0], *poll] + [poll[0], *poll]
    )
    assert sleeps == [0.0, 0.0]
    assert_no_secret(out, err)


def test_varserver_poll_waits_the_interval_between_polls(
    capsys: pytest.CaptureFixture[str], fake_pvs: FakePvs
) -> None:
    sleeps: list[float] = []
    argv = ["--host", "127.0.0.1", "--port", str(fake_pvs.port), "--http", "--count", "2",
            "--format", "csv", "--serial", PVS_SERIAL]
    assert poll_main(argv, sleeps) == 0
    out, err = capsys.readouterr()
    assert len(sleeps) == 1 and 290 < sleeps[0] <= 300
    assert "/cgi-bin/dl_cgi/supervisor/info" not in fake_pvs.requests
    import csv
    import io

    table = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["production_wh"]) for r in table] == [0.0, pytest.approx(60.0)]
    assert table[0]["flags"].split() == expected_rows(1)[0].to_dict()["flags"]
    assert_no_secret(out, err)


@pytest.mark.parametrize("interval", ["299", "60", "1"])
def test_varserver_poll_refuses_a_short_interval(
    capsys: pytest.CaptureFixture[str], fake_pvs: FakePvs, interval: str
) -> None:
    argv = ["--host", "127.0.0.1", "--port", str(fake_pvs.port), "--http", "--interval", interval]
    assert poll_main(argv) == 2
    captured = capsys.readouterr()
    assert "--i-know-polling-fast-crashes-the-pvs" in captured.err and "crash" in captured.err
    assert captured.out == "" and fake_pvs.requests == []


def test_varserver_poll_dry_run_masks_the_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--host", "192.0.2.7", "--serial", PVS_SERIAL, "--dry-run", "--interval", "30",
            "--i-know-polling-fast-crashes-the-pvs"]
    assert poll_main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "GET https://192.0.2.7/auth?login  Authorization: basic base64(ssm_owner:*****)",
        "GET https://192.0.2.7/vars?match=inverter&fmt=obj  Cookie: session=*****",
        "GET https://192.0.2.7/vars?match=meter&fmt=obj  Cookie: session=*****",
        "GET https://192.0.2.7/vars?match=livedata&fmt=obj  Cookie: session=*****",
        "every 30 s",
    ]
    assert_no_secret(out)


def test_varserver_poll_from_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = []
    for n in range(2):
        doc: dict[str, str] = {}
        for match in ("inverter", "meter", "livedata"):
            doc.update(vars_poll(n, match))
        files.append(tmp_path / f"poll{n}.json")
        files[-1].write_text(json.dumps(doc))
    assert poll_main(["--from-file", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["production_wh"] for r in rows] == [0.0, pytest.approx(60.0)]
    assert rows[1]["net_wh"] == pytest.approx(50.0)
    assert_no_secret(out, err)
    assert poll_main(["--from-file", str(tmp_path / "missing.json")]) == 1


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=pvs6.local", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def test_varserver_poll_accepts_the_self_signed_certificate_it_pinned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import hashlib
    import ssl

    cert, key = self_signed(tmp_path)
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert.read_text())).hexdigest()
    pvs = FakePvs((cert, key))
    try:
        base = ["--host", "127.0.0.1", "--port", str(pvs.port), "--once"]
        assert poll_main(base) == 0
        out, err = capsys.readouterr()
        assert f"certificate SHA-256 {fingerprint}" in err
        assert [json.loads(line) for line in out.splitlines()] == [
            r.to_dict() for r in expected_rows(1)
        ]
        assert poll_main([*base, "--pin-sha256", fingerprint.upper()]) == 0
        capsys.readouterr()
        asked = len(pvs.requests)
        assert poll_main([*base, "--pin-sha256", "00" * 32]) == 1
        out, err = capsys.readouterr()
        assert "not the pinned one" in err and out == ""
        assert len(pvs.requests) == asked  # nothing was sent to the wrong certificate
        assert_no_secret(out, err)
    finally:
        pvs.close()
