//! `sunpower report`: the HTML file of a generated home, written crash-safe, opened in a real
//! browser (headless Chromium from the distribution's packages; skipped with a message where
//! none is installed) and its screenshot checked for the heat map and its underperformer; and
//! the report of a generated year of a 44-panel home, opened in the same browser.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::sunpower_ok;
use sunpower_testkit::home::{Faults, Home};

/// The heat map's colour for a panel under 40 % of the day's median, used nowhere else on the
/// page (`sunpower_proto::report::HEAT_COLOURS`).
const LOW: [u8; 3] = [0xd7, 0x30, 0x27];
/// The heat map's colour for a panel at 90 % of the median or more.
const HEALTHY: [u8; 3] = [0x1a, 0x98, 0x50];

/// A browser run is killed past this.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An RGB screenshot.
struct Screenshot {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Screenshot {
    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    fn count(&self, colour: [u8; 3]) -> usize {
        self.rgb.chunks_exact(3).filter(|p| *p == colour).count()
    }

    /// The bounding boxes (width, height) of the 4-connected areas of exactly `colour`.
    fn areas(&self, colour: [u8; 3]) -> Vec<(usize, usize)> {
        let mut seen = vec![false; self.width * self.height];
        let mut areas = Vec::new();
        for start in 0..seen.len() {
            if seen[start] || self.pixel(start % self.width, start / self.width) != colour {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![start];
            let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
            while let Some(i) = stack.pop() {
                let (x, y) = (i % self.width, i / self.width);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                let mut next = |nx: usize, ny: usize| {
                    let j = ny * self.width + nx;
                    if !seen[j] && self.pixel(nx, ny) == colour {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    next(x - 1, y);
                }
                if x + 1 < self.width {
                    next(x + 1, y);
                }
                if y > 0 {
                    next(x, y - 1);
                }
                if y + 1 < self.height {
                    next(x, y + 1);
                }
            }
            areas.push((x1 - x0 + 1, y1 - y0 + 1));
        }
        areas
    }
}

/// Opens `html` in headless Chromium and returns its screenshot, the browser killed if it has
/// not finished in [`BROWSER_TIMEOUT`].
fn screenshot(browser: &Path, html: &Path, size: (u32, u32)) -> Screenshot {
    let dir = html.parent().unwrap();
    let png = dir.join(format!(
        "{}.png",
        html.file_stem().unwrap().to_string_lossy()
    ));
    let log = std::fs::File::create(dir.join("chromium.log")).unwrap();
    let started = Instant::now();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in {BROWSER_TIMEOUT:?} ({})",
                html.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "chromium: {} in {:.1} s",
        html.display(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "chromium: {status}, see {}",
        dir.join("chromium.log").display()
    );
    let file = std::io::BufReader::new(std::fs::File::open(&png).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("screenshot colour type {other:?}"),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Screenshot {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

/// Writes the home's lines as one body file and runs `sunpower report` on it.
fn report_of(home: &Home, dir: &Path) -> PathBuf {
    let mut body = home.lines().join("\n");
    body.push('\n');
    let body_path = dir.join("body.txt");
    std::fs::write(&body_path, body).unwrap();
    let html = dir.join("report.html");
    let out = sunpower_ok(
        &[
            "report",
            "--body",
            body_path.to_str().unwrap(),
            "--tz",
            "America/Los_Angeles",
            "--output",
            html.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("report.html: "), "{stderr}");
    // Written in place: no temporary file left beside it.
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["body.txt", "report.html"]);
    html
}

fn nine_days(faults: Faults) -> Home {
    Home {
        faults,
        meter: true,
        ..Home::new(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), 9)
    }
}

#[test]
fn the_report_opens_in_chromium_with_the_weak_panel_standing_out() {
    let weak = Faults {
        weak_panel: true,
        ..Faults::default()
    };
    let dir = work_dir("weak");
    let html = report_of(&nine_days(weak), &dir);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("<td>underperforming</td><td>INV03</td>"));

    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH (scripts/test installs Debian's `chromium`)");
        return;
    };
    let shot = screenshot(&browser, &html, (1000, 1600));
    // The heat map: ten panels by nine days of 28-pixel cells, nearly all healthy.
    let healthy = shot.count(HEALTHY);
    assert!(healthy > 80 * 20 * 10, "{healthy} healthy pixels");
    // INV03's five weak days: one area one panel high and five days wide (and the legend's
    // square swatch).
    let mut low = shot.areas(LOW);
    low.sort_by_key(|(w, h)| std::cmp::Reverse(w * h));
    let (w, h) = low[0];
    assert!((10..=16).contains(&h) && w >= 5 * 25, "{low:?}");
    assert!(low[1..].iter().all(|(w, h)| w <= h), "{low:?}");

    // The same home without the weak panel: only the legend's swatch is of that colour.
    let dir = work_dir("healthy");
    let html = report_of(&nine_days(Faults::default()), &dir);
    let shot = screenshot(&browser, &html, (1000, 1600));
    let low = shot.areas(LOW);
    assert!(low.iter().all(|(w, h)| w <= h), "{low:?}");
    assert!(shot.count(HEALTHY) > healthy);
}

#[test]
fn the_report_of_a_generated_year_renders_in_chromium() {
    use sunpower_proto::health::HealthConfig;
    use sunpower_proto::intervals::IntervalConfig;
    use sunpower_proto::report::ReportStages;

    // A year of a 44-panel home from 1 June 2026, hourly, INV03 weak from 2 to 6 June.
    let home = Home {
        inverters: 44,
        days: 365,
        step_minutes: 60,
        faults: Faults {
            weak_panel: true,
            ..Faults::default()
        },
        ..nine_days(Faults::default())
    };
    let mut stages = ReportStages::new(
        IntervalConfig::documents(),
        HealthConfig::default(),
        home.tz,
    );
    home.for_each_line(|line| stages.add(&sunpower_proto::parse_line(line).unwrap()));
    let html = stages.finish().html();
    eprintln!("a year of 44 panels: {} bytes", html.len());
    assert!(html.len() < 3_000_000);
    let dir = work_dir("year");
    let path = dir.join("year.html");
    sunpower_store::write_file(&path, html.as_bytes()).unwrap();

    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH (scripts/test installs Debian's `chromium`)");
        return;
    };
    let shot = screenshot(&browser, &path, (1200, 1600));
    // 44 rows of 365 three-pixel days, most of them healthy, in view.
    let healthy = shot.count(HEALTHY);
    assert!(healthy > 44 * 300 * 3 * 10, "{healthy}");
    let low = shot.areas(LOW);
    assert!(
        low.iter()
            .any(|(w, h)| *w >= 5 * 3 && (10..=16).contains(h)),
        "{low:?}"
    );
}

#[test]
fn a_telemetry_stream_gives_its_day_and_its_gap() {
    let dir = work_dir("telemetry");
    let html = dir.join("report.html");
    let frames = common::telemetry_with_a_silence();
    let out = sunpower_ok(
        &[
            "report",
            "--telemetry",
            "-",
            "--tz",
            "UTC",
            "--output",
            html.to_str().unwrap(),
        ],
        Some(frames.as_bytes()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // One day, no panel (telemetry has the site's totals only), the gap and its recovery.
    assert!(stderr.contains("1 days, 0 panels, 2 findings"), "{stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    // The counter's 7 h at 1.8 kW, less the first frame's second, and the silence as a gap.
    assert!(page.contains("2026-06-01: produced 12.60 kWh"), "{page}");
    assert!(page.contains("no data for 4h01"), "{page}");
}
