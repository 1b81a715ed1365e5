//! The page: plain `write!` of HTML, SVG and CSS, every text from the input escaped.

use std::collections::BTreeSet;
use std::fmt::{self, Write};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::Report;
use crate::health::{worst_first, Finding, Kind, Severity, Status};
use crate::intervals::Tz;

/// The heat map shows at most this many days (the latest ones): a year and a month.
pub const MAX_HEAT_DAYS: usize = 400;

/// The findings table shows at most this many (the worst); the rest are counted.
pub const MAX_FINDINGS_SHOWN: usize = 1000;

/// The heat map's colours (CSS class, colour, what it means), a panel's day against the median
/// of the array's panels that day. `#d73027`, under 0.4 × the median (the health stage's
/// ratio), is used nowhere else on the page, so an underperformer stands out (and can be found
/// on a screenshot).
pub const HEAT_COLOURS: [(&str, &str, &str); 7] = [
    ("a", "#1a9850", "90 % of the median or more"),
    ("b", "#91cf60", "75-90 %"),
    ("c", "#d9ef8b", "60-75 %"),
    ("d", "#fdae61", "40-60 %"),
    ("e", "#d73027", "under 40 %"),
    ("n", "#c8c8c8", "no report"),
    ("z", "#f0f0f0", "no production in the array"),
];

/// A day whose panels' median is under this made no energy worth comparing (kWh).
const MIN_MEDIAN_KWH: f64 = 0.01;

/// A serial longer than this is cut in the heat map's labels (the whole in the cell titles).
const LABEL_CHARS: usize = 20;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;\
max-width:1100px;padding:12px;color:#222;background:#fff;line-height:1.4}\
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.2em 0 .4em}\
.sub{color:#555;margin:0 0 .8em}.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #ddd;border-radius:6px;\
padding:6px 10px;min-width:8em}.card b{display:block;font-size:1.3em}\
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:4px 6px;\
border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}th{background:#f6f6f6}\
.sev{font-weight:600;border-radius:4px;padding:0 4px;white-space:nowrap}\
.critical{background:#8e0152;color:#fff}.warning{background:#fee391}.info{background:#e8eef7}\
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:.85em;margin:.3em 0}\
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;\
border:1px solid #888}\
svg text{font-size:11px;fill:#444}\
.a{fill:#1a9850}.b{fill:#91cf60}.c{fill:#d9ef8b}.d{fill:#fdae61}.e{fill:#d73027}\
.n{fill:#c8c8c8}.z{fill:#f0f0f0}\
@media (max-width:600px){body{padding:6px}td,th{padding:3px}}";

/// Text escaped for HTML (element content and quoted attributes alike).
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

pub(super) fn write<W: Write>(report: &Report, out: &mut W) -> fmt::Result {
    let tz = report.daily.tz();
    let dates = all_dates(report);
    let range = match (dates.first(), dates.last()) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "no data".to_string(),
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Solar report, {range}</title><style>{STYLE}</style></head><body>\n\
         <h1>Solar report</h1><p class=\"sub\">{range}, local days in {}</p>\n",
        Esc(tz.name())
    )?;
    write_summary(report, out)?;
    write_daily(report, out)?;
    write_heat_map(report, out)?;
    write_findings(report, tz, out)?;
    write_gaps(report, &dates, tz, out)?;
    out.write_str("</body></html>\n")
}

/// Every date with interval rows or panel readings.
fn all_dates(report: &Report) -> Vec<NaiveDate> {
    let mut dates: BTreeSet<NaiveDate> = report.daily.days().map(|(d, _)| d).collect();
    for serial in report.panels.serials() {
        if let Some(days) = report.panels.daily(serial) {
            dates.extend(days.keys());
        }
    }
    dates.into_iter().collect()
}

fn write_summary<W: Write>(report: &Report, out: &mut W) -> fmt::Result {
    let mut production = 0.0;
    let mut consumption = None::<f64>;
    let mut net = None::<f64>;
    for (_, day) in report.daily.days() {
        production += day.production_wh;
        if let Some(c) = day.consumption_wh {
            *consumption.get_or_insert(0.0) += c;
        }
        if let Some(n) = day.net_wh {
            *net.get_or_insert(0.0) += n;
        }
    }
    let kwh = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1} kWh", v / 1000.0));
    let faults = |s: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.status == Status::Fault && f.severity == s)
            .count()
    };
    writeln!(
        out,
        "<div class=\"cards\"><div class=\"card\">Produced<b>{}</b></div>\
         <div class=\"card\">Consumed<b>{}</b></div><div class=\"card\">Net from grid<b>{}</b></div>\
         <div class=\"card\">Panels<b>{}</b></div><div class=\"card\">Faults<b>{} critical, {} warning</b></div></div>",
        kwh(Some(production)),
        kwh(consumption),
        kwh(net),
        report.panels.serials().count(),
        faults(Severity::Critical),
        faults(Severity::Warning),
    )
}

/// Production as bars, consumption and net as lines, per day; every day of the range has its
/// place (a day without rows is a gap in the lines).
fn write_daily<W: Write>(report: &Report, out: &mut W) -> fmt::Result {
    out.write_str("<section><h2>Daily energy</h2>")?;
    let days: Vec<(NaiveDate, &super::DayTotals)> = report.daily.days().collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return out.write_str("<p>No interval data.</p></section>\n");
    };
    let first = first.0;
    let n = ((last.0 - first).num_days() + 1).max(1) as usize;
    let bar = (720.0 / n as f64).clamp(2.0, 40.0);
    let (left, top, plot_h) = (56.0, 10.0, 200.0);
    let width = left + bar * n as f64 + 10.0;
    let height = top + plot_h + 34.0;
    let kwh = |wh: f64| wh / 1000.0;
    let mut hi: f64 = 0.0;
    let mut lo: f64 = 0.0;
    for (_, d) in &days {
        hi = hi.max(kwh(d.production_wh));
        for v in [d.consumption_wh, d.net_wh].into_iter().flatten() {
            hi = hi.max(kwh(v));
            lo = lo.min(kwh(v));
        }
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let y = |v: f64| top + plot_h * (hi - v) / (hi - lo);
    write!(
        out,
        "<div class=\"legend\"><span><i style=\"background:#f4a582\"></i>produced</span>\
         <span><i style=\"background:#2166ac\"></i>consumed</span>\
         <span><i style=\"background:#762a83\"></i>net from grid (below 0: exported)</span></div>\
         <div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         role=\"img\" aria-label=\"daily production, consumption and net, kWh\">"
    )?;
    // Axes: the top and bottom values and zero.
    for v in [hi, lo, 0.0] {
        write!(
            out,
            "<line x1=\"{left}\" x2=\"{:.0}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>",
            width - 10.0,
            y(v),
            y(v),
            if v == 0.0 { "#888" } else { "#e4e4e4" },
            left - 4.0,
            y(v) + 4.0
        )?;
    }
    write!(
        out,
        "<text x=\"4\" y=\"{:.0}\">kWh</text>",
        top + plot_h / 2.0
    )?;
    let x = |date: NaiveDate| left + bar * (date - first).num_days() as f64;
    for (date, d) in &days {
        let p = kwh(d.production_wh);
        if p > 0.0 {
            write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f4a582\"><title>{date}: produced {p:.2} kWh</title></rect>",
                x(*date) + bar * 0.1,
                y(p),
                bar * 0.8,
                y(0.0) - y(p)
            )?;
        }
    }
    for (colour, value) in [
        (
            "#2166ac",
            (|d: &super::DayTotals| d.consumption_wh) as fn(&super::DayTotals) -> _,
        ),
        ("#762a83", |d: &super::DayTotals| d.net_wh),
    ] {
        let mut open = false;
        let mut previous: Option<NaiveDate> = None;
        for (date, d) in &days {
            let Some(v) = value(d) else { continue };
            let consecutive = previous.is_some_and(|p| (*date - p).num_days() == 1);
            if !consecutive && open {
                out.write_str("\"/>")?;
                open = false;
            }
            if !open {
                write!(
                    out,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\""
                )?;
                open = true;
            }
            write!(out, "{:.1},{:.1} ", x(*date) + bar / 2.0, y(kwh(v)))?;
            previous = Some(*date);
        }
        if open {
            out.write_str("\"/>")?;
        }
    }
    // Date labels: the first, the last, and month starts when there is room.
    let label_y = top + plot_h + 16.0;
    let mut last_label = f64::NEG_INFINITY;
    for i in 0..n {
        let date = first + TimeDelta::days(i as i64);
        write_date_label(out, date, x(date), bar, i, n, label_y, &mut last_label)?;
    }
    out.write_str("</svg></div></section>\n")
}

/// Panel x day, each cell coloured by the panel's energy against the day's median.
fn write_heat_map<W: Write>(report: &Report, out: &mut W) -> fmt::Result {
    out.write_str("<section><h2>Panels, day by day</h2>")?;
    let panels = &report.panels;
    let mut serials: Vec<&str> = panels.serials().collect();
    serials.sort_unstable();
    let mut dates: BTreeSet<NaiveDate> = BTreeSet::new();
    for s in &serials {
        if let Some(days) = panels.daily(s) {
            dates.extend(days.keys());
        }
    }
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return out.write_str("<p>No panel readings.</p></section>\n");
    };
    let total = (last - first).num_days() + 1;
    let shown = total.min(MAX_HEAT_DAYS as i64);
    let first = last - TimeDelta::days(shown - 1);
    if shown < total {
        write!(
            out,
            "<p>The last {shown} days; the {} before are not shown.</p>",
            total - shown
        )?;
    }
    out.write_str("<div class=\"legend\">")?;
    for (_, colour, meaning) in HEAT_COLOURS {
        write!(
            out,
            "<span><i style=\"background:{colour}\"></i>{meaning}</span>"
        )?;
    }
    out.write_str("</div>")?;
    let n = shown as usize;
    // The medians of each day, over the panels that reported.
    let medians: Vec<Option<f64>> = (0..n)
        .map(|i| {
            let date = first + TimeDelta::days(i as i64);
            let mut values: Vec<f64> = serials
                .iter()
                .filter_map(|s| panels.daily(s).and_then(|d| d.get(&date)).copied())
                .collect();
            crate::health::median_of(&mut values)
        })
        .collect();
    let cell = (720.0 / n as f64).clamp(3.0, 28.0);
    let row = 14.0;
    let left = 8.0
        + 7.0
            * LABEL_CHARS.min(serials.iter().map(|s| s.chars().count()).max().unwrap_or(1)) as f64;
    let top = 4.0;
    let width = left + cell * n as f64 + 4.0;
    let height = top + row * serials.len() as f64 + 20.0;
    write!(
        out,
        "<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         role=\"img\" aria-label=\"each panel's daily energy against the array's median\">"
    )?;
    for (r, serial) in serials.iter().enumerate() {
        let y = top + row * r as f64;
        let label: String = serial.chars().take(LABEL_CHARS).collect();
        write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text><g transform=\"translate({left:.0},{y:.0})\">",
            left - 4.0,
            y + row - 3.0,
            Esc(&label)
        )?;
        let days = panels.daily(serial);
        for (i, median) in medians.iter().enumerate() {
            let date = first + TimeDelta::days(i as i64);
            let energy = days.and_then(|d| d.get(&date)).copied();
            let (class, ratio) = match (energy, median) {
                (_, None) => continue,
                (_, Some(m)) if *m < MIN_MEDIAN_KWH => ("z", None),
                (None, _) => ("n", None),
                (Some(e), Some(m)) => {
                    let r = e / m;
                    let class = match r {
                        r if r >= 0.9 => "a",
                        r if r >= 0.75 => "b",
                        r if r >= 0.6 => "c",
                        r if r >= 0.4 => "d",
                        _ => "e",
                    };
                    (class, Some(r))
                }
            };
            write!(
                out,
                "<rect x=\"{:.1}\" width=\"{cell:.1}\" height=\"{:.0}\" class=\"{class}\"><title>{} {date}",
                cell * i as f64,
                row - 1.0,
                Esc(serial)
            )?;
            match (energy, ratio) {
                (Some(e), Some(r)) => write!(out, ": {e:.2} kWh, {:.0} %", 100.0 * r)?,
                (Some(e), None) => write!(out, ": {e:.2} kWh")?,
                (None, _) => out.write_str(": no report")?,
            }
            out.write_str("</title></rect>")?;
        }
        out.write_str("</g>")?;
    }
    // Date labels under the map.
    let label_y = top + row * serials.len() as f64 + 14.0;
    let mut last_label = f64::NEG_INFINITY;
    for i in 0..n {
        let date = first + TimeDelta::days(i as i64);
        let at = left + cell * i as f64;
        write_date_label(out, date, at, cell, i, n, label_y, &mut last_label)?;
    }
    out.write_str("</svg></div></section>\n")
}

/// A date under a chart: the first (from its column's left), the last (ending at its column's
/// right), and month starts where they leave room.
#[allow(clippy::too_many_arguments)]
fn write_date_label<W: Write>(
    out: &mut W,
    date: NaiveDate,
    at: f64,
    column: f64,
    i: usize,
    n: usize,
    y: f64,
    last_label: &mut f64,
) -> fmt::Result {
    const WIDTH: f64 = 70.0;
    let month_start = chrono::Datelike::day(&date) == 1;
    if i + 1 == n && (n == 1 || at + column - *last_label > 2.0 * WIDTH) {
        return write!(
            out,
            "<text x=\"{:.1}\" y=\"{y:.0}\" text-anchor=\"end\">{}</text>",
            at + column,
            date.format("%Y-%m-%d")
        );
    }
    // Room for the last one, too.
    let room_before_last = (n - 1 - i) as f64 * column > WIDTH;
    if (i == 0 || month_start) && at - *last_label > WIDTH && (i == 0 || room_before_last) {
        write!(
            out,
            "<text x=\"{at:.1}\" y=\"{y:.0}\">{}</text>",
            date.format("%Y-%m-%d")
        )?;
        *last_label = at;
    }
    Ok(())
}

fn local(t: DateTime<Utc>, tz: Tz) -> impl fmt::Display {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M")
}

fn write_findings<W: Write>(report: &Report, tz: Tz, out: &mut W) -> fmt::Result {
    out.write_str("<section><h2>Findings</h2>")?;
    if report.findings.is_empty() {
        return out.write_str(
            "<p>Nothing found: every panel reported and produced with its peers.</p></section>\n",
        );
    }
    let mut findings: Vec<Finding> = report.findings.clone();
    worst_first(&mut findings);
    out.write_str(
        "<div class=\"scroll\"><table><thead><tr><th>Severity</th><th>Status</th><th>Kind</th>\
         <th>Device</th><th>From</th><th>To</th><th>Evidence</th></tr></thead><tbody>",
    )?;
    for f in findings.iter().take(MAX_FINDINGS_SHOWN) {
        write!(
            out,
            "<tr><td><span class=\"sev {sev}\">{sev}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            f.status.as_str(),
            f.kind.as_str().replace('_', " "),
            Esc(f.device_name()),
            local(f.start, tz),
            local(f.end, tz),
            Esc(&f.evidence_text()),
            sev = f.severity.as_str(),
        )?;
    }
    out.write_str("</tbody></table></div>")?;
    if findings.len() > MAX_FINDINGS_SHOWN {
        write!(
            out,
            "<p>{} more findings not shown (the least severe; `sunpower health` lists them all).</p>",
            findings.len() - MAX_FINDINGS_SHOWN
        )?;
    }
    out.write_str("</section>\n")
}

/// The supervisor's silences (each gap once, from its recovery, or its fault while it lasts),
/// and the days of the range without any data.
fn write_gaps<W: Write>(report: &Report, dates: &[NaiveDate], tz: Tz, out: &mut W) -> fmt::Result {
    out.write_str("<section><h2>Gaps in the data</h2>")?;
    let mut gaps: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for f in report.findings.iter().filter(|f| f.kind == Kind::Gap) {
        let recovered = report
            .findings
            .iter()
            .any(|r| r.kind == Kind::Gap && r.status == Status::Recovered && r.start == f.start);
        if f.status == Status::Recovered || !recovered {
            gaps.push((f.start, f.end));
        }
    }
    gaps.sort();
    gaps.dedup();
    let missing: Vec<NaiveDate> = match (dates.first(), dates.last()) {
        (Some(&a), Some(&b)) => {
            let have: BTreeSet<&NaiveDate> = dates.iter().collect();
            let mut v = Vec::new();
            let mut d = a;
            while d < b {
                if !have.contains(&d) {
                    v.push(d);
                }
                d += TimeDelta::days(1);
            }
            v
        }
        _ => Vec::new(),
    };
    if gaps.is_empty() && missing.is_empty() {
        return out.write_str("<p>No gaps: the supervisor reported throughout.</p></section>\n");
    }
    out.write_str("<ul>")?;
    for (start, end) in &gaps {
        let minutes = (*end - *start).num_minutes();
        write!(
            out,
            "<li>{} to {}: no data for {}h{:02} (not counted as zero production)</li>",
            local(*start, tz),
            local(*end, tz),
            minutes / 60,
            minutes % 60
        )?;
    }
    if !missing.is_empty() {
        write!(out, "<li>{} days without any data:", missing.len())?;
        for d in missing.iter().take(60) {
            write!(out, " {d}")?;
        }
        if missing.len() > 60 {
            out.write_str(" ...")?;
        }
        out.write_str("</li>")?;
    }
    out.write_str("</ul></section>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            Esc("a<b>&\"c'd").to_string(),
            "a&lt;b&gt;&amp;&quot;c&#39;d"
        );
        assert_eq!(Esc("plain é").to_string(), "plain é");
    }
}
