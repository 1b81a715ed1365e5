"""sunpower.Session driven as an integration would drive it, with its own "HTTP client": here a
simulated supervisor in Python (login with an expiring cookie, polls, a period down), and
simulated time."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

import sunpower

SERIAL = "ZT01234567890ABCDEF"
START = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.timezone.utc)


class Supervisor:
    """A PVS6 on build 61846 with three inverters; its cookies live `cookie_life`."""

    def __init__(self, cookie_life: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.cookie_life = cookie_life
        self.cookie: str | None = None
        self.issued = START
        self.logins = 0
        self.down: tuple[dt.datetime, dt.datetime] | None = None
        self.polls: list[tuple[dt.datetime, str]] = []

    def answer(self, request: sunpower.SessionRequest, now: dt.datetime) -> tuple[int, bytes, str | None] | None:
        if self.down and self.down[0] <= now < self.down[1]:
            return None
        headers = request.headers
        if request.purpose == "identify":
            body = '{"result":"succeed","supervisor":{"MODEL":"PVS6","SERIAL":"%s","BUILD":61846}}' % SERIAL
            return 200, body.encode(), None
        if request.purpose == "login":
            expected = "Basic " + base64.b64encode(b"ssm_owner:" + SERIAL[-5:].encode()).decode()
            if headers.get("Authorization") != expected:
                return 401, b"", None
            self.logins += 1
            self.cookie = f"session=s{self.logins}"
            self.issued = now
            return 200, b"{}", f"{self.cookie}; Path=/; HttpOnly"
        if headers.get("Cookie") != self.cookie or now - self.issued >= self.cookie_life:
            return 401, b"", None
        assert request.query is not None
        self.polls.append((now, request.query))
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if request.query == "inverters":
            minutes = (now - START).total_seconds() / 60
            entries = {}
            for i in range(3):
                entries[f"/sys/devices/inverter/{i}/sn"] = f"E00121{i:09}"
                entries[f"/sys/devices/inverter/{i}/msmtEps"] = stamp
                entries[f"/sys/devices/inverter/{i}/ltea3phsumKwh"] = f"{1000 + minutes * 0.004:.4f}"
            return 200, json.dumps(entries).encode(), None
        if request.query == "site_totals":
            return 200, ('{"/sys/livedata/time": "%d", "/sys/livedata/pv_en": "5000.5"}' % now.timestamp()).encode(), None
        return 200, b"{}", None


def run(session: sunpower.Session, pvs: Supervisor, end: dt.datetime) -> list[sunpower.SessionEvent]:
    now = START
    events: list[sunpower.SessionEvent] = []
    for _ in range(100_000):
        if now >= end:
            return events
        request = session.next_request(now)
        if request is None:
            wake = session.next_wakeup()
            assert wake is not None and wake > now
            now = wake
            continue
        assert "ssm_owner" not in repr(request) and "session=" not in repr(request)
        now += dt.timedelta(seconds=1)
        answer = pvs.answer(request, now)
        if answer is None:
            events += session.handle_failure(now, "connect")
        else:
            status, body, cookie = answer
            events += session.handle_response(now, status, body, cookie)
    raise AssertionError("the session never waits")


def test_an_integration_logs_in_polls_every_five_minutes_and_gets_typed_documents() -> None:
    pvs = Supervisor(cookie_life=dt.timedelta(minutes=25))
    session = sunpower.Session()
    events = run(session, pvs, START + dt.timedelta(hours=1))
    assert events[0].kind == "identified" and events[0].source == "varserver"
    assert events[0].info is not None and events[0].info.build == 61846
    assert session.source == "varserver"
    inverter_polls = [t for t, q in pvs.polls if q == "inverters"]
    assert len(inverter_polls) == 12
    # Every 300 s from the cycle's start; a cycle that logs in again first answers 2 s late,
    # and the next keeps the cadence.
    gaps = {(b - a).total_seconds() for a, b in zip(inverter_polls, inverter_polls[1:])}
    assert gaps <= {298.0, 300.0, 302.0}, gaps
    assert abs((inverter_polls[-1] - inverter_polls[0]).total_seconds() - 11 * 300) <= 2
    # The cookie expired twice in the hour: logged in again each time, no poll lost.
    assert pvs.logins == 3
    assert [e.kind for e in events].count("logged_in") == 3
    inverters = [e.vars for e in events if e.kind == "vars" and e.query == "inverters"]
    assert len(inverters) == 12
    first = inverters[0]
    assert first is not None
    minutes = (inverter_polls[0] - START).total_seconds() / 60
    expected = float(f"{1000 + minutes * 0.004:.4f}")
    assert [r.lifetime_energy_kwh for r in first.records] == [expected] * 3
    assert [r.serial for r in first.records] == ["E00121000000000", "E00121000000001", "E00121000000002"]
    assert not [e for e in events if e.kind == "failed"]


def test_a_supervisor_down_is_backed_off_and_the_failures_say_when_the_next_try_is() -> None:
    pvs = Supervisor()
    pvs.down = (START + dt.timedelta(minutes=10), START + dt.timedelta(minutes=70))
    session = sunpower.Session()
    events = run(session, pvs, START + dt.timedelta(minutes=120))
    failed = [e for e in events if e.kind == "failed"]
    assert failed and all(e.problem == "no connection" for e in failed)
    retries = [e.retry_at for e in failed]
    assert all(r is not None for r in retries)
    # Doubling waits, 30 s first.
    waits = [(b - a).total_seconds() for a, b in zip(retries, retries[1:]) if a and b]
    assert waits == sorted(waits) and waits[0] >= 60
    assert any(t > START + dt.timedelta(minutes=70) for t, _ in pvs.polls)


def test_polls_under_five_minutes_need_the_risk_named() -> None:
    for risky, gap in ((False, 300), (True, 60)):
        pvs = Supervisor()
        session = sunpower.Session(
            poll_every=60, poll_faster_than_five_minutes_at_the_risk_of_the_supervisor=risky
        )
        run(session, pvs, START + dt.timedelta(minutes=20))
        polls = [t for t, q in pvs.polls if q == "inverters"]
        assert {(b - a).total_seconds() for a, b in zip(polls, polls[1:])} == {gap}


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="poll_every"):
        sunpower.Session(poll_every=0)
    session = sunpower.Session()
    assert session.next_request(START) is not None
    with pytest.raises(ValueError, match="failure"):
        session.handle_failure(START, "oops")  # type: ignore[arg-type]
