//! Replays the saved fuzz corpora and crash regressions (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) on stable, with the same checks as the cargo-fuzz targets: the
//! checks live in `fuzz/harness.rs`, shared with `fuzz/fuzz_targets/`.
//!
//! Inputs listed in `fuzz/regressions/known-failures.txt` are crashes reported but not fixed
//! yet: they must still fail, so that the list is emptied as the library is fixed.
//!
//! Not replayed here: `devicelist` and the JSON half of `record_line`, which need features of
//! `sunpower-proto` (`devicelist`, `serde`) that this crate's tests do not enable.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../fuzz/harness.rs"]
mod harness;

fn fuzz_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz")).to_path_buf()
}

/// The files of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `<target>/<file>` of the regressions known to fail still.
fn known_failures() -> Vec<String> {
    let list = fuzz_dir().join("regressions").join("known-failures.txt");
    std::fs::read_to_string(list)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Runs `check` on every saved input of `target`; names every input that fails (and every
/// known failure that now passes).
fn replay(target: &str, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no corpus for {target} under {}",
        fuzz_dir().display()
    );
    let known = known_failures();
    let mut wrong = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let expect_failure = path
            .parent()
            .and_then(|p| p.parent())
            .is_some_and(|p| p.ends_with("regressions"))
            && known.contains(&format!("{target}/{name}"));
        let failed = catch_unwind(AssertUnwindSafe(|| check(&data))).is_err();
        if failed && !expect_failure {
            wrong.push(format!("fails: {}", path.display()));
        } else if !failed && expect_failure {
            wrong.push(format!(
                "passes now, remove it from fuzz/regressions/known-failures.txt: {}",
                path.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{target}: {} of {} inputs:\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
}

#[test]
fn record_line_corpus_parses_lines_consistently() {
    replay("record_line", harness::check_record_line);
}

#[test]
fn body_corpus_agrees_with_the_reference_split() {
    replay("body", harness::check_body);
}

#[test]
fn http_framer_corpus_keeps_counters_and_chunking_invariants() {
    replay("http_framer", harness::check_http_framer);
}

#[test]
fn tcp_reassembler_corpus_accounts_for_every_byte() {
    replay("tcp_reassembler", harness::check_tcp);
}

#[test]
fn capture_reader_corpus_decodes_without_panicking() {
    replay("capture_reader", harness::check_capture);
}

#[test]
fn intervals_corpus_gives_finite_non_negative_energies() {
    replay("intervals", harness::check_intervals);
}
