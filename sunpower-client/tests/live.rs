//! The client against the mock supervisor on 127.0.0.1: real TLS, real sockets.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use sunpower_client::{ClientError, Fingerprint, Host, Live, LiveConfig, LiveEvent, Supervisor};
use sunpower_proto::session::{Event, Failure, Purpose, Request, Source, VarsQuery};
use sunpower_testkit::mock::{fingerprint, Fault, Firmware, MockSupervisor, PASSWORD};

fn host(mock: &MockSupervisor) -> Host {
    Host::new("127.0.0.1", mock.port())
}

fn info_request() -> Request {
    // The session's first request: the supervisor's info, no login.
    let mut session = sunpower_proto::session::Session::new(Default::default());
    session.next_request(chrono::Utc::now()).unwrap()
}

/// A config for tests: polls every second (the risk named), back-off from 1 s to 2 s, short
/// timeouts, the mock's WebSocket port.
fn fast(mock: &MockSupervisor) -> LiveConfig {
    let mut config = LiveConfig::new(host(mock));
    config.timeout = Duration::from_secs(2);
    config.session.poll_every = TimeDelta::seconds(1);
    config
        .session
        .poll_faster_than_five_minutes_at_the_risk_of_the_supervisor = true;
    config.session.first_backoff = TimeDelta::seconds(1);
    config.session.max_backoff = TimeDelta::seconds(2);
    config.telemetry_port = mock.ws_port();
    config.telemetry_silence = TimeDelta::seconds(1);
    config
}

/// Steps `live` until `done` says so or `limit` passes; every event kept.
fn run_until(
    live: &mut Live,
    limit: Duration,
    mut done: impl FnMut(&[LiveEvent]) -> bool,
) -> Vec<LiveEvent> {
    let end = Instant::now() + limit;
    let mut events = Vec::new();
    while Instant::now() < end && !done(&events) {
        events.extend(live.step(Duration::from_millis(50)));
    }
    events
}

#[test]
fn the_first_certificate_is_pinned_and_a_changed_one_refused() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let supervisor = Supervisor::new(&host(&mock), None, Duration::from_secs(2));
    let answer = supervisor.send(&info_request()).unwrap();
    assert_eq!(answer.status, 200);
    let (pin, first_seen) = supervisor.pinned().unwrap();
    assert!(first_seen);
    assert_eq!(pin.to_string(), fingerprint(&mock.certificate()));
    // The same certificate again: accepted.
    assert_eq!(supervisor.send(&info_request()).unwrap().status, 200);

    mock.change_certificate();
    let err = supervisor.send(&info_request()).unwrap_err();
    match &err {
        ClientError::PinMismatch { seen, pinned } => {
            assert_eq!(seen.to_string(), fingerprint(&mock.certificate()));
            assert_eq!(*pinned, Some(pin));
        }
        other => panic!("expected a pin mismatch, got {other:?}"),
    }
    assert_eq!(err.failure(), Failure::Tls);
    assert!(err.to_string().contains(&pin.to_string()));
}

#[test]
fn a_given_pin_is_required_from_the_first_connection() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let right: Fingerprint = fingerprint(&mock.certificate()).parse().unwrap();
    let ok = Supervisor::new(&host(&mock), Some(right), Duration::from_secs(2));
    assert_eq!(ok.send(&info_request()).unwrap().status, 200);
    assert_eq!(ok.pinned(), Some((right, false)));

    let wrong = Fingerprint([7; 32]);
    let refused = Supervisor::new(&host(&mock), Some(wrong), Duration::from_secs(2));
    assert!(matches!(
        refused.send(&info_request()),
        Err(ClientError::PinMismatch { pinned: Some(p), .. }) if p == wrong
    ));
}

#[test]
fn slow_cut_and_dropped_answers_fail_in_time() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let supervisor = Supervisor::new(&host(&mock), None, Duration::from_millis(500));
    mock.fault("supervisor/info", Fault::Slow(Duration::from_secs(3)));
    let started = Instant::now();
    let err = supervisor.send(&info_request()).unwrap_err();
    assert_eq!(err.failure(), Failure::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    mock.fault("supervisor/info", Fault::Cut);
    let err = supervisor.send(&info_request()).unwrap_err();
    assert_eq!(err.failure(), Failure::Cut, "{err}");

    mock.fault("supervisor/info", Fault::Drop);
    let err = supervisor.send(&info_request()).unwrap_err();
    assert_eq!(err.failure(), Failure::Cut, "{err}");

    mock.fault("supervisor/info", Fault::Status(500));
    assert_eq!(supervisor.send(&info_request()).unwrap().status, 500);
    assert_eq!(supervisor.send(&info_request()).unwrap().status, 200);
}

#[test]
fn nothing_listening_is_a_connection_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let supervisor = Supervisor::new(&Host::new("127.0.0.1", port), None, Duration::from_secs(1));
    let err = supervisor.send(&info_request()).unwrap_err();
    assert_eq!(err.failure(), Failure::Connect, "{err}");
}

#[test]
fn live_logs_in_polls_and_logs_in_again_after_expiry() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let mut live = Live::new(fast(&mock));
    let cycles = |events: &[LiveEvent]| {
        events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    LiveEvent::Session(Event::Vars {
                        query: VarsQuery::SiteTotals,
                        ..
                    })
                )
            })
            .count()
    };
    let mut events = run_until(&mut live, Duration::from_secs(10), |e| cycles(e) >= 1);
    assert!(matches!(
        events[0],
        LiveEvent::Pinned {
            first_seen: true,
            ..
        }
    ));
    assert_eq!(cycles(&events), 1);
    mock.expire_sessions();
    events.extend(run_until(&mut live, Duration::from_secs(10), |e| {
        cycles(e) >= 1
    }));
    let logins = events
        .iter()
        .filter(|e| matches!(e, LiveEvent::Session(Event::LoggedIn)))
        .count();
    assert_eq!(logins, 2);
    assert_eq!(mock.cookies().len(), 2);
    let log = mock.log();
    assert!(log
        .iter()
        .any(|l| l.path.starts_with("/vars") && l.status == 401));
    // No secret in any event's Debug.
    let shown = format!("{events:?} {live:?}");
    for cookie in mock.cookies() {
        let value = cookie.split_once('=').unwrap().1;
        assert!(!shown.contains(value), "a cookie in {shown}");
    }
    // The password is the serial's end (the serial itself is public in the records): the
    // credential is the pair, and its base64.
    assert!(!shown.contains(&format!("ssm_owner:{PASSWORD}")));
    assert!(!shown.contains("c3NtX293bmVyOkJDREVG"));
}

#[test]
fn live_falls_back_to_the_devicelist_and_a_pvs5_to_polls() {
    let old = MockSupervisor::start(Firmware::OldPvs6, Duration::from_secs(60));
    let mut live = Live::new(fast(&old));
    let events = run_until(&mut live, Duration::from_secs(10), |e| {
        e.iter()
            .any(|e| matches!(e, LiveEvent::Session(Event::DeviceList(_))))
    });
    assert!(events.iter().any(|e| matches!(
        e,
        LiveEvent::Session(Event::SourceChanged {
            source: Source::DeviceList,
            status: 404
        })
    )));
    assert_eq!(live.session().source(), Source::DeviceList);

    let pvs5 = MockSupervisor::start(Firmware::Pvs5, Duration::from_secs(60));
    let mut config = fast(&pvs5);
    config.telemetry = true;
    config.session.enable_telemetry = true;
    let mut live = Live::new(config);
    let events = run_until(&mut live, Duration::from_secs(10), |e| {
        e.iter()
            .filter(|e| {
                matches!(
                    e,
                    LiveEvent::Session(Event::Vars {
                        query: VarsQuery::SiteTotals,
                        ..
                    })
                )
            })
            .count()
            >= 2
    });
    assert!(events.iter().any(|e| matches!(
        e,
        LiveEvent::Session(Event::TelemetryUnavailable { status: 400 })
    )));
    assert!(!events
        .iter()
        .any(|e| matches!(e, LiveEvent::TelemetryConnected)));
}

#[test]
fn live_backs_off_while_down_and_recovers() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    mock.set_down(true);
    let mut live = Live::new(fast(&mock));
    let failed = |e: &LiveEvent| matches!(e, LiveEvent::Session(Event::Failed { .. }));
    let events = run_until(&mut live, Duration::from_secs(10), |e| {
        e.iter().filter(|e| failed(e)).count() >= 3
    });
    let waits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Session(Event::Failed {
                purpose: Purpose::Identify,
                retry_at,
                ..
            }) => Some(*retry_at),
            _ => None,
        })
        .collect();
    assert_eq!(waits.len(), 3);
    mock.set_down(false);
    let events = run_until(&mut live, Duration::from_secs(10), |e| {
        e.iter()
            .any(|e| matches!(e, LiveEvent::Session(Event::Vars { .. })))
    });
    assert!(events
        .iter()
        .any(|e| matches!(e, LiveEvent::Session(Event::LoggedIn))));
}

#[test]
fn live_rides_websocket_drops_and_silences() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let mut config = fast(&mock);
    config.telemetry = true;
    config.session.enable_telemetry = true;
    let mut live = Live::new(config);
    let frames = |e: &[LiveEvent]| {
        e.iter()
            .filter(|e| matches!(e, LiveEvent::Telemetry(_)))
            .count()
    };
    let mut events = run_until(&mut live, Duration::from_secs(10), |e| frames(e) >= 3);
    assert!(mock.telemetry_enabled());
    assert_eq!(frames(&events), 3);
    mock.drop_websockets();
    let before = frames(&events);
    events.extend(run_until(&mut live, Duration::from_secs(10), |e| {
        frames(e) >= 3
    }));
    assert!(frames(&events) >= before + 3);
    mock.set_websocket_silent(true);
    events.extend(run_until(&mut live, Duration::from_secs(10), |e| {
        e.iter().any(
            |e| matches!(e, LiveEvent::TelemetryClosed { reason } if reason.contains("silent")),
        )
    }));
    mock.set_websocket_silent(false);
    events.extend(run_until(&mut live, Duration::from_secs(10), |e| {
        frames(e) >= 3
    }));
    let connects = events
        .iter()
        .filter(|e| matches!(e, LiveEvent::TelemetryConnected))
        .count();
    assert!(connects >= 3, "{connects} connections");
    // The counters only rise across the reconnects.
    let counters: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Telemetry(site) => site.pv_energy_kwh,
            _ => None,
        })
        .collect();
    assert!(counters.windows(2).all(|w| w[0] <= w[1]), "{counters:?}");
}
