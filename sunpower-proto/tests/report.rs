//! The HTML report on generated homes: every part present, the planted faults on their panels
//! and days in the heat map, hostile serials escaped, and a year of a 44-panel home small enough
//! for a browser to open at once.
#![cfg(feature = "report")]

use chrono::NaiveDate;
use sunpower_proto::health::HealthConfig;
use sunpower_proto::intervals::IntervalConfig;
use sunpower_proto::parse_line;
use sunpower_proto::report::{Report, ReportStages};
use sunpower_testkit::home::{Faults, Home};

fn spec() -> Home {
    Home {
        meter: true,
        ..Home::new(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), 9)
    }
}

fn report(home: &Home) -> Report {
    let mut stages = ReportStages::new(
        IntervalConfig::documents(),
        HealthConfig::default(),
        home.tz,
    );
    home.for_each_line(|line| stages.add(&parse_line(line).unwrap()));
    stages.finish()
}

/// The heat map class of a panel's day, from the cell whose title names them.
fn cell_class(html: &str, serial: &str, date: NaiveDate) -> Option<String> {
    let title = format!("<title>{serial} {date}");
    let at = html.find(&title)?;
    let before = &html[..at];
    let class_at = before.rfind("class=\"")? + 7;
    let end = before[class_at..].find('"')? + class_at;
    Some(before[class_at..end].to_string())
}

#[test]
fn a_faulty_home_shows_its_faults_on_their_panels_and_days() {
    let home = Home {
        faults: Faults::all(),
        ..spec()
    };
    let report = report(&home);
    let html = report.html();
    for part in [
        "<meta name=\"viewport\"",
        "<h2>Daily energy</h2>",
        "<h2>Panels, day by day</h2>",
        "<h2>Findings</h2>",
        "<h2>Gaps in the data</h2>",
    ] {
        assert!(html.contains(part), "{part}");
    }
    // Nothing fetched: no script, no external reference.
    for absent in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(absent), "{absent}");
    }

    // INV03 at 30 % on days 1 to 5: under 40 % of the median ("e"), and fine around them.
    for day in 1..=5 {
        assert_eq!(
            cell_class(&html, "INV03", home.date(day)).as_deref(),
            Some("e"),
            "day {day}"
        );
    }
    assert_eq!(
        cell_class(&html, "INV03", home.date(0)).as_deref(),
        Some("a")
    );
    assert_eq!(
        cell_class(&html, "INV03", home.date(7)).as_deref(),
        Some("a")
    );
    // INV05 silent on days 3 and 4: no report; its day 2 (half a day) low.
    for day in 3..=4 {
        assert_eq!(
            cell_class(&html, "INV05", home.date(day)).as_deref(),
            Some("n")
        );
    }
    // Its day 2, the morning only: 39 % of the others' energy.
    assert_eq!(
        cell_class(&html, "INV05", home.date(2)).as_deref(),
        Some("e")
    );
    // INV07 reporting zero all of day 4; the counter glitch of INV09 costs no energy.
    assert_eq!(
        cell_class(&html, "INV07", home.date(4)).as_deref(),
        Some("e")
    );
    assert_eq!(
        cell_class(&html, "INV09", home.date(1)).as_deref(),
        Some("a")
    );
    // Every other healthy panel-day at 90 % of the median or more.
    let healthy = html.matches("class=\"a\"").count();
    assert!(healthy >= 10 * 9 - 5 - 3 - 1 - 1 - 1, "{healthy}");

    // The findings, worst first: the two dead inverters at the top.
    let table = &html[html.find("<h2>Findings</h2>").unwrap()..];
    let first_rows: Vec<&str> = table.split("<tr>").skip(2).take(2).collect();
    assert!(
        first_rows.iter().all(|r| r.contains("critical")),
        "{first_rows:?}"
    );
    assert!(table.contains("<td>not reporting</td><td>INV05</td>"));
    assert!(table.contains("<td>underperforming</td><td>INV03</td>"));
    assert!(table.contains("30% of the array median over 3 days"));
    // The six silent hours of day 6, in local time.
    let gaps = &html[html.find("<h2>Gaps in the data</h2>").unwrap()..];
    assert!(
        gaps.contains("<li>2026-06-07 08:55 to 2026-06-07 15:00: no data for 6h05"),
        "{gaps}"
    );
    // Consumption and net from the meter: lines of the chart.
    assert_eq!(html.matches("<polyline").count(), 2);
}

#[test]
fn a_home_without_faults_has_no_underperformer_and_no_finding() {
    let weather = |day: u32| [1.0, 0.2, 0.35, 0.08, 1.0, 0.5, 0.12, 1.0, 0.25][day as usize];
    let home = Home { weather, ..spec() };
    let html = report(&home).html();
    assert!(!html.contains("class=\"e\""));
    assert!(!html.contains("class=\"n\""));
    assert_eq!(html.matches("class=\"a\"").count(), 10 * 9);
    assert!(html.contains("Nothing found"));
    assert!(html.contains("No gaps"));
}

#[test]
fn serials_from_the_input_are_escaped() {
    let mut stages = ReportStages::new(
        IntervalConfig::documents(),
        HealthConfig::default(),
        chrono_tz::UTC,
    );
    let evil = "<script>alert('x')</script>&\"";
    for (i, time) in ["120000", "120500", "121000"].iter().enumerate() {
        for serial in [evil, "B", "C"] {
            let kwh = 100.0 + 0.025 * i as f64;
            let line = format!("130\t20260601{time}\t{serial}\tM\t\t{kwh}\t0.3");
            stages.add(&parse_line(&line).unwrap());
        }
    }
    let html = stages.finish().html();
    assert!(!html.contains("<script"));
    assert!(!html.contains(evil));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
}

#[test]
fn a_year_of_a_44_panel_home_is_a_few_megabytes() {
    // Hourly, as some sources poll (the page holds days, not samples: a 5-minute year makes the
    // same page), both clock changes of Los Angeles included.
    let home = Home {
        inverters: 44,
        days: 365,
        step_minutes: 60,
        first_day: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        ..spec()
    };
    let report = report(&home);
    let html = report.html();
    eprintln!("a year of 44 panels: {} bytes", html.len());
    assert!(html.len() < 3_000_000, "{} bytes", html.len());
    assert_eq!(html.matches("<rect x=").count() - 365, 44 * 365);
    // A year of the same weather: no finding.
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}
