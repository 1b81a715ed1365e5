//! The local API session against a simulated supervisor: no socket, simulated time. The
//! supervisor answers as the firmware does (login with basic auth and an expiring cookie, 401
//! after expiry, 400 to the telemetry enable on a PVS5, the DeviceList on old firmware) and can
//! be down for a while.
#![cfg(feature = "varserver")]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sunpower_proto::session::{
    Event, Failure, Purpose, Request, Response, Session, SessionConfig, Source, VarsQuery,
};

const SERIAL: &str = "ZT01234567890ABCDEF";
/// base64("ssm_owner:BCDEF").
const AUTH: &str = "Basic c3NtX293bmVyOkJDREVG";

/// What the simulated supervisor is.
struct Supervisor {
    model: &'static str,
    build: u64,
    inverters: usize,
    /// How long a session cookie lives.
    cookie_life: TimeDelta,
    /// Answers nothing during these periods.
    down: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Every cookie issued, to check that none leaks.
    cookies: Vec<String>,
    issued_at: Option<DateTime<Utc>>,
    logins: usize,
    /// Requests answered, by purpose.
    log: Vec<(DateTime<Utc>, Purpose)>,
}

impl Supervisor {
    fn pvs6() -> Supervisor {
        Supervisor {
            model: "PVS6",
            build: 61846,
            inverters: 3,
            cookie_life: TimeDelta::hours(1),
            down: Vec::new(),
            cookies: Vec::new(),
            issued_at: None,
            logins: 0,
            log: Vec::new(),
        }
    }

    fn vars(&self, query: VarsQuery, now: DateTime<Utc>) -> String {
        let t = now.format("%Y-%m-%dT%H:%M:%SZ");
        let minutes = (now - at(0)).num_minutes() as f64;
        let mut entries = Vec::new();
        match query {
            VarsQuery::Inverters => {
                for i in 0..self.inverters {
                    entries.push(format!(r#""/sys/devices/inverter/{i}/sn": "E00121{i:09}""#));
                    entries.push(format!(r#""/sys/devices/inverter/{i}/msmtEps": "{t}""#));
                    entries.push(format!(
                        r#""/sys/devices/inverter/{i}/ltea3phsumKwh": "{:.4}""#,
                        1000.0 + minutes * 0.004
                    ));
                    entries.push(format!(r#""/sys/devices/inverter/{i}/p3phsumKw": "0.24""#));
                }
            }
            VarsQuery::Meters => {
                entries.push(r#""/sys/devices/meter/0/sn": "PVS6M0123p""#.to_owned());
                entries.push(format!(r#""/sys/devices/meter/0/msmtEps": "{t}""#));
                entries.push(format!(
                    r#""/sys/devices/meter/0/netLtea3phsumKwh": "{:.2}""#,
                    3000.0 + minutes * 0.012
                ));
            }
            VarsQuery::SiteTotals => {
                entries.push(format!(r#""/sys/livedata/time": "{}""#, now.timestamp()));
                entries.push(format!(
                    r#""/sys/livedata/pv_en": "{:.3}""#,
                    5000.0 + minutes * 0.012
                ));
                entries.push(r#""/sys/livedata/pv_p": "0.72""#.to_owned());
            }
            VarsQuery::Batteries | VarsQuery::TransferSwitches => {}
            _ => {}
        }
        format!("{{{}}}", entries.join(","))
    }

    /// The answer to `request` at `now`: a status, a Set-Cookie, a body; `None` when down.
    fn answer(
        &mut self,
        request: &Request,
        now: DateTime<Utc>,
    ) -> Option<(u16, Option<String>, String)> {
        if self.down.iter().any(|&(from, to)| from <= now && now < to) {
            return None;
        }
        self.log.push((now, request.purpose));
        let cookie_ok = match (&request.cookie, self.issued_at, self.cookies.last()) {
            (Some(c), Some(issued), Some(last)) => {
                c.expose() == last && now - issued < self.cookie_life
            }
            _ => false,
        };
        let varserver = match self.model {
            "PVS5" => self.build >= 5408,
            _ => self.build >= 61840,
        };
        Some(match request.purpose {
            Purpose::Identify => (
                200,
                None,
                format!(
                    r#"{{"result":"succeed","supervisor":{{"MODEL":"{}","SERIAL":"{SERIAL}","BUILD":{}}}}}"#,
                    self.model, self.build
                ),
            ),
            Purpose::Login if !varserver => (404, None, String::new()),
            Purpose::Login => match &request.authorization {
                Some(auth) if auth.expose() == AUTH => {
                    self.logins += 1;
                    let cookie = format!("session=c{}x{}", self.logins, now.timestamp());
                    self.cookies.push(cookie.clone());
                    self.issued_at = Some(now);
                    (
                        200,
                        Some(format!("{cookie}; Path=/; HttpOnly")),
                        "{}".to_owned(),
                    )
                }
                _ => (401, None, String::new()),
            },
            Purpose::EnableTelemetry if !cookie_ok => (401, None, String::new()),
            Purpose::EnableTelemetry if self.model == "PVS5" => (400, None, String::new()),
            Purpose::EnableTelemetry => (200, None, "{}".to_owned()),
            Purpose::Poll(_) if !cookie_ok => (401, None, String::new()),
            Purpose::Poll(query) => (200, None, self.vars(query, now)),
            Purpose::DeviceList if varserver => (403, None, String::new()),
            Purpose::DeviceList => (200, None, devicelist(now)),
            _ => (500, None, String::new()),
        })
    }
}

fn devicelist(now: DateTime<Utc>) -> String {
    let t = now.format("%Y,%m,%d,%H,%M,%S");
    format!(
        r#"{{"result":"succeed","devices":[{{"DEVICE_TYPE":"Inverter","SERIAL":"E001","DATATIME":"{t}","ltea_3phsum_kwh":"100.5","p_3phsum_kw":"0.2","STATE":"working"}}]}}"#
    )
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

/// Drives `session` against `pvs` until `end`, stepping time to each wake-up (requests are
/// answered in a second); returns every event.
fn run(
    session: &mut Session,
    pvs: &mut Supervisor,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Event> {
    let mut now = start;
    let mut events = Vec::new();
    let mut steps = 0;
    while now < end {
        steps += 1;
        assert!(steps < 1_000_000, "the session never waits");
        match session.next_request(now) {
            Some(request) => {
                // No secret in what an adapter would log.
                let shown = format!("{request:?}");
                assert!(
                    !shown.contains("c3NtX293") && !shown.contains("session="),
                    "{shown}"
                );
                now += TimeDelta::seconds(1);
                match pvs.answer(&request, now) {
                    Some((status, cookie, body)) => session.handle_response(
                        now,
                        Response {
                            status,
                            set_cookie: cookie.as_deref(),
                            body: body.as_bytes(),
                        },
                    ),
                    None => session.handle_failure(now, Failure::Connect),
                }
                while let Some(event) = session.poll_event() {
                    let shown = format!("{event:?}");
                    assert!(
                        !shown.contains("session=") && !shown.contains("c3NtX293"),
                        "{shown}"
                    );
                    events.push(event);
                }
            }
            None => {
                let wake = session
                    .next_wakeup()
                    .expect("nothing in flight between steps");
                assert!(wake > now, "a request due now was not given");
                now = wake;
            }
        }
    }
    events
}

fn polls(pvs: &Supervisor, query: VarsQuery) -> Vec<DateTime<Utc>> {
    pvs.log
        .iter()
        .filter(|(_, p)| *p == Purpose::Poll(query))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn a_pvs6_is_identified_logged_into_and_polled_every_five_minutes() {
    let mut pvs = Supervisor::pvs6();
    let mut session = Session::new(SessionConfig::default());
    let events = run(&mut session, &mut pvs, at(0), at(60));
    assert!(matches!(
        &events[0],
        Event::Identified { info, source: Source::Varserver } if info.build == Some(61846)
    ));
    assert_eq!(events[1], Event::LoggedIn);
    let inverter_polls = polls(&pvs, VarsQuery::Inverters);
    // 12:00 to 13:00: a cycle every 300 s, the first right after the login.
    assert_eq!(inverter_polls.len(), 12, "{inverter_polls:?}");
    for pair in inverter_polls.windows(2) {
        assert_eq!(pair[1] - pair[0], TimeDelta::seconds(300));
    }
    // Each cycle: inverters, meters, site totals; batteries and transfer switches asked once,
    // and not again when the supervisor has none.
    assert_eq!(polls(&pvs, VarsQuery::SiteTotals).len(), 12);
    assert_eq!(polls(&pvs, VarsQuery::Batteries).len(), 1);
    assert_eq!(polls(&pvs, VarsQuery::TransferSwitches).len(), 1);
    let inverter_records: usize = events
        .iter()
        .filter_map(|e| match e {
            Event::Vars {
                query: VarsQuery::Inverters,
                vars,
            } => Some(vars.records().count()),
            _ => None,
        })
        .sum();
    assert_eq!(inverter_records, 12 * 3);
    assert!(!events.iter().any(|e| matches!(e, Event::Failed { .. })));
}

#[test]
fn polls_are_not_faster_than_five_minutes_unless_the_risk_is_named() {
    for (risk, expected) in [(false, 300), (true, 60)] {
        let mut pvs = Supervisor::pvs6();
        let mut config = SessionConfig::default();
        config.poll_every = TimeDelta::seconds(60);
        config.poll_faster_than_five_minutes_at_the_risk_of_the_supervisor = risk;
        let mut session = Session::new(config);
        run(&mut session, &mut pvs, at(0), at(30));
        let polls = polls(&pvs, VarsQuery::Inverters);
        assert!(polls.len() > 2);
        for pair in polls.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                TimeDelta::seconds(expected),
                "risk {risk}"
            );
        }
    }
}

#[test]
fn an_expired_cookie_means_one_login_again_and_no_lost_poll() {
    let mut pvs = Supervisor::pvs6();
    pvs.cookie_life = TimeDelta::minutes(20);
    let mut session = Session::new(SessionConfig::default());
    let events = run(&mut session, &mut pvs, at(0), at(120));
    // Logged in at the start, then about every 20 minutes when a poll was refused.
    assert!(pvs.logins >= 6, "{} logins", pvs.logins);
    assert_eq!(
        events.iter().filter(|e| **e == Event::LoggedIn).count(),
        pvs.logins
    );
    // Every cycle still gave its site totals: 24 cycles in two hours.
    let answered = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Vars {
                    query: VarsQuery::SiteTotals,
                    ..
                }
            )
        })
        .count();
    assert_eq!(answered, 24);
    assert!(!events.iter().any(|e| matches!(e, Event::Failed { .. })));
}

#[test]
fn a_supervisor_down_for_two_hours_is_backed_off_to_thirty_minutes_then_polled_again() {
    let mut pvs = Supervisor::pvs6();
    pvs.down.push((at(10), at(130)));
    let mut session = Session::new(SessionConfig::default());
    let events = run(&mut session, &mut pvs, at(0), at(200));
    let retries: Vec<DateTime<Utc>> = events
        .iter()
        .filter_map(|e| match e {
            Event::Failed { retry_at, .. } => Some(*retry_at),
            _ => None,
        })
        .collect();
    // Waits of 30 s, 1, 2, 4, 8, 16 minutes, then 30 minutes at most.
    let waits: Vec<i64> = retries
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds())
        .collect();
    // (Each failed attempt takes a simulated second.)
    assert!(waits.iter().all(|&w| w <= 30 * 60 + 1), "{waits:?}");
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    assert!(
        waits.iter().filter(|&&w| w >= 30 * 60).count() >= 2,
        "{waits:?}"
    );
    // Back: logged in again and polled every five minutes.
    let after: Vec<_> = polls(&pvs, VarsQuery::Inverters)
        .into_iter()
        .filter(|t| *t >= at(130))
        .collect();
    assert!(after.len() >= 10, "{after:?}");
    assert!(after[0] - at(130) <= TimeDelta::minutes(31));
}

#[test]
fn old_firmware_is_read_through_the_devicelist() {
    let mut pvs = Supervisor::pvs6();
    pvs.build = 41001;
    let mut session = Session::new(SessionConfig::default());
    let events = run(&mut session, &mut pvs, at(0), at(30));
    assert!(matches!(
        events[0],
        Event::Identified {
            source: Source::DeviceList,
            ..
        }
    ));
    let lists = events
        .iter()
        .filter(|e| matches!(e, Event::DeviceList(_)))
        .count();
    assert_eq!(lists, 6);
    assert_eq!(pvs.logins, 0);
    assert!(pvs
        .log
        .iter()
        .all(|(_, p)| matches!(p, Purpose::Identify | Purpose::DeviceList)));
}

#[test]
fn a_pvs5_refuses_the_telemetry_and_is_polled_all_the_same() {
    let mut pvs = Supervisor::pvs6();
    (pvs.model, pvs.build) = ("PVS5", 5408);
    let mut config = SessionConfig::default();
    config.enable_telemetry = true;
    let mut session = Session::new(config);
    let events = run(&mut session, &mut pvs, at(0), at(30));
    assert!(events.contains(&Event::TelemetryUnavailable { status: 400 }));
    assert_eq!(polls(&pvs, VarsQuery::Inverters).len(), 6);
    // Asked once only.
    let enables = pvs
        .log
        .iter()
        .filter(|(_, p)| *p == Purpose::EnableTelemetry)
        .count();
    assert_eq!(enables, 1);
}

#[test]
fn telemetry_is_enabled_only_when_asked() {
    for asked in [false, true] {
        let mut pvs = Supervisor::pvs6();
        let mut config = SessionConfig::default();
        config.enable_telemetry = asked;
        let mut session = Session::new(config);
        let events = run(&mut session, &mut pvs, at(0), at(10));
        let enables = pvs
            .log
            .iter()
            .filter(|(_, p)| *p == Purpose::EnableTelemetry)
            .count();
        assert_eq!(enables, usize::from(asked));
        assert_eq!(events.contains(&Event::TelemetryEnabled), asked);
    }
}

#[test]
fn missing_inverters_after_a_restart_are_reported_and_the_kinds_asked_again() {
    let mut pvs = Supervisor::pvs6();
    let mut session = Session::new(SessionConfig::default());
    run(&mut session, &mut pvs, at(0), at(10));
    pvs.inverters = 1;
    let events = run(&mut session, &mut pvs, at(10), at(20));
    assert!(events.contains(&Event::InvertersMissing {
        answered: 1,
        expected: 3
    }));
    // The optional kinds were asked for again after it.
    assert_eq!(polls(&pvs, VarsQuery::Batteries).len(), 2);
}

#[test]
fn nonsense_answers_are_backed_off() {
    let mut session = Session::new(SessionConfig::default());
    let mut now = at(0);
    let mut waits = Vec::new();
    for _ in 0..8 {
        let request = session.next_request(now).expect("due");
        assert_eq!(request.purpose, Purpose::Identify);
        session.handle_response(
            now,
            Response {
                status: 200,
                set_cookie: None,
                body: b"<html>",
            },
        );
        match session.poll_event() {
            Some(Event::Failed {
                retry_at, problem, ..
            }) => {
                assert!(problem.starts_with("unreadable"), "{problem}");
                waits.push((retry_at - now).num_seconds());
                assert!(
                    session.next_request(now).is_none(),
                    "asked again before the wait"
                );
                now = retry_at;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
}

#[test]
fn a_week_of_polls_keeps_the_session_small_and_the_cadence() {
    let mut pvs = Supervisor::pvs6();
    pvs.cookie_life = TimeDelta::hours(6);
    // A night restart each day: the supervisor is away for ten minutes.
    pvs.down = (0..7)
        .map(|d| (at(d * 1440 + 600), at(d * 1440 + 610)))
        .collect();
    let mut session = Session::new(SessionConfig::default());
    let events = run(&mut session, &mut pvs, at(0), at(7 * 1440));
    let cycles = polls(&pvs, VarsQuery::SiteTotals).len();
    // 2,016 five-minute cycles in a week, less those the restarts cost.
    assert!((1990..=2016).contains(&cycles), "{cycles} cycles");
    // The session's own state does not grow: nothing left queued, one request at a time.
    assert!(session.poll_event().is_none());
    assert!(format!("{session:?}").len() < 2_000);
    assert!(events.len() > cycles * 3);
}

#[test]
fn without_a_serial_the_login_is_not_attempted_and_the_session_says_why() {
    let mut session = Session::new(SessionConfig::default());
    let now = at(0);
    session.next_request(now).unwrap();
    // An info page without a serial.
    let info = br#"{"result":"succeed","supervisor":{"MODEL":"PVS6","BUILD":61846}}"#;
    session.handle_response(
        now,
        Response {
            status: 200,
            set_cookie: None,
            body: info,
        },
    );
    assert!(matches!(
        session.poll_event(),
        Some(Event::Identified { .. })
    ));
    assert!(session.next_request(now).is_none());
    match session.poll_event() {
        Some(Event::Failed {
            purpose: Purpose::Login,
            problem,
            ..
        }) => {
            assert!(problem.contains("SessionConfig::serial"), "{problem}")
        }
        other => panic!("{other:?}"),
    }
    // With the serial given, the login goes out.
    let mut config = SessionConfig::default();
    config.serial = Some(SERIAL.to_owned());
    let mut session = Session::new(config);
    session.next_request(now).unwrap();
    session.handle_response(
        now,
        Response {
            status: 200,
            set_cookie: None,
            body: info,
        },
    );
    let login = session.next_request(now).unwrap();
    assert_eq!(login.authorization.unwrap().expose(), AUTH);
}

mod telemetry_link {
    use super::at;
    use chrono::{DateTime, TimeDelta, Utc};
    use sunpower_proto::session::{LinkAction, TelemetryLink};

    /// A simulated WebSocket: frames when `sends(t)` says so, dropped at `drops`, refusing
    /// connections during `refused`. Returns the connects, the closes for silence, and the
    /// seconds with a frame delivered.
    fn run(
        end: i64,
        sends: impl Fn(i64) -> bool,
        drops: &[i64],
        refused: (i64, i64),
    ) -> (Vec<i64>, Vec<i64>, usize) {
        let mut link = TelemetryLink::new();
        let (mut connects, mut silences, mut frames) = (Vec::new(), Vec::new(), 0);
        let mut up = false;
        let second = |s: i64| at(0) + TimeDelta::seconds(s);
        for s in 0..end {
            let now: DateTime<Utc> = second(s);
            while let Some(action) = link.next_action(now) {
                match action {
                    LinkAction::Connect => {
                        connects.push(s);
                        if (refused.0..refused.1).contains(&s) {
                            link.closed(now);
                            break;
                        }
                        link.connected(now);
                        up = true;
                    }
                    LinkAction::Close => {
                        silences.push(s);
                        link.closed(now);
                        up = false;
                    }
                    _ => break,
                }
            }
            if up && drops.contains(&s) {
                link.closed(now);
                up = false;
                continue;
            }
            if up && sends(s) {
                link.frame(now);
                frames += 1;
            }
        }
        (connects, silences, frames)
    }

    #[test]
    fn a_drop_every_ten_minutes_is_reconnected_at_once_and_no_second_is_lost() {
        let drops: Vec<i64> = (1..6).map(|m| m * 600).collect();
        let (connects, silences, frames) = run(3600, |_| true, &drops, (0, 0));
        assert_eq!(connects, [0, 601, 1201, 1801, 2401, 3001]);
        assert!(silences.is_empty());
        // Only the second of each drop has no frame.
        assert_eq!(frames, 3600 - 5);
    }

    #[test]
    fn a_quiet_minute_is_normal_but_ninety_seconds_of_silence_reconnect() {
        // Frames every 60 s: never closed. Then the socket goes silent at 600 s.
        let (connects, silences, _) = run(1200, |s| s % 60 == 0 && s < 600, &[], (0, 0));
        assert_eq!(silences.first(), Some(&(540 + 90)));
        assert_eq!(connects[..2], [0, 630]);
        // A socket that never sends again is closed after each 90 s, and the reconnects back off.
        let gaps: Vec<i64> = connects[1..].windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            gaps[..5],
            [91, 92, 94, 98, 106],
            "90 s of silence, then 1, 2, 4, 8, 16 s"
        );
    }

    #[test]
    fn refused_connections_back_off_to_five_minutes_then_recover() {
        let (connects, _, frames) = run(3 * 3600, |_| true, &[], (0, 3600));
        let early: Vec<i64> = connects.iter().copied().filter(|&s| s < 600).collect();
        assert_eq!(early[..6], [0, 1, 3, 7, 15, 31]);
        let waits: Vec<i64> = connects.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(waits.iter().all(|&w| w <= 300), "{waits:?}");
        // Back within five minutes of the supervisor accepting again, and streaming since.
        let back = *connects.last().unwrap();
        assert!((3600..=3900).contains(&back), "{back}");
        assert_eq!(frames as i64, 3 * 3600 - back);
    }
}
