//! Every third-party capture under `shared/captures/third_party` reads without panic, with the
//! packet counts capinfos reports, and the files libpcap rejects give an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sunpower_pcap::capture::{CaptureReader, Input};
use sunpower_pcap::ip::decode_ip;
use sunpower_pcap::link::decode_link;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/captures/third_party"
);

/// What SOURCES.txt says about one file.
#[derive(Debug, Default)]
struct Entry {
    packets: Option<u64>,
    libpcap_error: Option<String>,
}

fn sources(dir: &Path) -> HashMap<String, Entry> {
    let text = std::fs::read_to_string(dir.join("SOURCES.txt")).unwrap_or_default();
    let mut map = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.contains('/') && !line.contains(' ') {
            current = Some(line.trim().to_string());
            map.insert(line.trim().to_string(), Entry::default());
            continue;
        }
        let Some(name) = &current else { continue };
        let Some(entry) = map.get_mut(name) else {
            continue;
        };
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("capinfos:") {
            entry.packets = rest
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix("packets="))
                .and_then(|v| v.parse().ok());
        } else if let Some(rest) = line.strip_prefix("libpcap:") {
            let rest = rest.trim();
            // "(reads cleanly)" and warnings are not rejections.
            if rest.starts_with("tcpdump:") {
                entry.libpcap_error = Some(rest.to_string());
            }
        }
    }
    map
}

#[derive(Debug, Default)]
struct Outcome {
    packets: u64,
    errors: Vec<String>,
    tcp: u64,
}

fn read_all(path: &Path) -> Outcome {
    let mut reader = CaptureReader::new(vec![Input::from_path(path)]);
    let mut out = Outcome::default();
    let mut calls = 0u64;
    while let Some(item) = reader.next_packet() {
        calls += 1;
        assert!(calls < 10_000_000, "no end reading {}", path.display());
        match item {
            Ok(p) => {
                out.packets += 1;
                if let Ok(net) = decode_link(p.link_type, p.data)
                    && let Ok(sunpower_pcap::ip::Transport::Tcp(_)) = decode_ip(net.payload)
                {
                    out.tcp += 1;
                }
            }
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "LICENSES") {
                    stack.push(p);
                }
            } else if p.extension().is_none_or(|x| x != "txt") && d != dir {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Packet blocks (EPB + SPB) and IDBs from a pcapng-test-generator description.
fn generator_counts(txt: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(txt).ok()?;
    let count = |name: &str| -> u64 {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(name))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .sum()
    };
    Some((count("EPB:") + count("SPB:"), count("IDB:")))
}

/// libpcap rejects these only because their interfaces have different snaplens, a libpcap
/// limitation; the files are valid pcapng and we read them.
const LIBPCAP_LIMITATION_ONLY: &[&str] = &[
    "zeek/ldap__gap-data-missing.pcapng",
    "zeek/ldap__modify-request.pcapng",
];

#[test]
fn every_third_party_capture_reads_without_panic_and_matches_capinfos() {
    let dir = Path::new(DIR);
    if !dir.is_dir() {
        println!("skipping: {} not found", dir.display());
        return;
    }
    let entries = sources(dir);
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in files(dir) {
        let rel = path
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let out = read_all(&path);
        println!(
            "{rel}: packets={} tcp={} errors={:?}",
            out.packets, out.tcp, out.errors
        );
        if rel.starts_with("pcapng-test-generator/") {
            let Some((blocks, idbs)) = generator_counts(&path.with_extension("txt")) else {
                continue;
            };
            checked += 1;
            if idbs == 0 {
                // No interface at all: libpcap refuses such files, and so do we.
                if out.packets != 0 || out.errors.len() != 1 {
                    problems.push(format!("{rel}: expected one no-interface error: {out:?}"));
                }
            } else if out.packets != blocks || !out.errors.is_empty() {
                problems.push(format!(
                    "{rel}: expected {blocks} packets, no error: {out:?}"
                ));
            }
            continue;
        }
        let Some(entry) = entries.get(&rel) else {
            continue;
        };
        checked += 1;
        if entry.libpcap_error.is_some() && !LIBPCAP_LIMITATION_ONLY.contains(&rel.as_str()) {
            if out.errors.is_empty() || out.packets != 0 {
                problems.push(format!(
                    "{rel}: libpcap rejects it, expected an error only: {out:?}"
                ));
            }
        } else {
            if !out.errors.is_empty() {
                problems.push(format!("{rel}: unexpected errors {:?}", out.errors));
            }
            if let Some(n) = entry.packets
                && n != out.packets
            {
                problems.push(format!(
                    "{rel}: capinfos says {n} packets, read {}",
                    out.packets
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 200, "only {checked} files checked");
}

#[test]
fn tsresol_two_to_minus_63_timestamp_decodes_without_overflow() {
    let path = Path::new(DIR).join("libpcap/pcapng-tsresol-bin-overflow.pcapng");
    if !path.is_file() {
        println!("skipping: {} not found", path.display());
        return;
    }
    let mut reader = CaptureReader::new(vec![Input::from_path(&path)]);
    let p = reader.next_packet().unwrap().unwrap();
    // 0x7fff_ffff_ffff_ffff units of 2^-63 s: just under one second.
    assert_eq!(p.timestamp.timestamp(), 0);
    assert_eq!(p.timestamp.timestamp_subsec_nanos(), 999_999_999);
    assert!(reader.next_packet().is_none());
}
