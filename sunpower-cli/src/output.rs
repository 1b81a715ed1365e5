//! The command's edges: JSON Lines on standard output, problems on standard error (as the
//! library's problem log decides), inputs opened by name.

use std::fs::File;
use std::io::{self, Read, Write};

use indicatif::ProgressBar;
use sunpower_proto::{BodyStream, LineError, ProblemLog, Record, LINE_ERROR_KIND};

/// JSON Lines on standard output, buffered (the library's writer).
pub type JsonLines = sunpower_proto::JsonLines<io::StdoutLock<'static>>;

/// The command's JSON Lines writer.
pub fn stdout_lines() -> JsonLines {
    JsonLines::new(io::stdout().lock())
}

/// Standard error: problems (suspending the progress bar, if one is drawn) and the summary of
/// those the problem log did not show.
#[derive(Default)]
pub struct Stderr {
    pub progress: Option<ProgressBar>,
}

impl Stderr {
    pub fn problem(&self, message: impl std::fmt::Display) {
        match &self.progress {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    /// Clears the progress bar, then says how many problems of each kind were not shown.
    pub fn finish(&self, not_shown: impl IntoIterator<Item = String>) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
        for line in not_shown {
            eprintln!("sunpower: {line}");
        }
    }
}

/// An input by name: a path, or `-` for standard input.
pub fn open_input(name: &str) -> io::Result<Box<dyn Read>> {
    if name == "-" {
        Ok(Box::new(io::stdin().lock()))
    } else {
        Ok(Box::new(File::open(name)?))
    }
}

/// The name an input goes by in messages.
pub fn display_name(name: &str) -> &str {
    if name == "-" {
        "<stdin>"
    } else {
        name
    }
}

/// The kind of capture file `start` begins like, if any (no POST body begins with these bytes).
fn capture_kind(start: &[u8]) -> Option<&'static str> {
    match start.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] => Some("pcap"),
        [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] => Some("pcap"),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some("pcapng"),
        [0x1f, 0x8b, ..] => Some("gzip-compressed"),
        _ => None,
    }
}

/// Why reading a body stopped.
pub enum BodyError {
    /// The input could not be opened or read (reported, then exit status 1).
    Input(io::Error),
    /// Writing the output failed.
    Output(io::Error),
}

/// Reads a raw body input as a stream (bounded memory whatever its size), handing each record or
/// damaged line to `on_item` and logging damaged lines as `NAME: line N: ...`.
pub fn read_body(
    name: &str,
    log: &mut ProblemLog,
    stderr: &Stderr,
    mut on_item: impl FnMut(&Result<Record<'_>, LineError>) -> io::Result<()>,
) -> Result<(), BodyError> {
    let mut stream = BodyStream::new();
    let mut result = Ok(());
    let mut on = |item: Result<Record<'_>, LineError>, result: &mut io::Result<()>| {
        log_damaged(name, log, stderr, item.as_ref().err());
        if result.is_ok() {
            *result = on_item(&item);
        }
    };
    read_chunks(name, |chunk| {
        match chunk {
            Some(chunk) => stream.feed(chunk, |item| on(item, &mut result)),
            None => stream.finish(|item| on(item, &mut result)),
        }
        result.is_ok()
    })?;
    result.map_err(BodyError::Output)
}

/// Logs a damaged line as `NAME: line N: ...`, as the problem log admits.
fn log_damaged(name: &str, log: &mut ProblemLog, stderr: &Stderr, error: Option<&LineError>) {
    if let Some(e) = error
        && log.admit(LINE_ERROR_KIND)
    {
        stderr.problem(format_args!("{}: {e}", display_name(name)));
    }
}

/// Reads a raw body input in chunks, handing each to `feed` until it returns `false`, then
/// `None` for the end; a capture given as a body is refused at its first bytes.
fn read_chunks(name: &str, mut feed: impl FnMut(Option<&[u8]>) -> bool) -> Result<(), BodyError> {
    let mut input = open_input(name).map_err(BodyError::Input)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut first = true;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BodyError::Input(e)),
        };
        if std::mem::take(&mut first)
            && let Some(kind) = capture_kind(&buf[..n])
        {
            return Err(BodyError::Input(io::Error::other(format!(
                "this is a {kind} capture, not a raw POST body: use `sunpower decode` \
                     (or `sunpower stats` without --body)"
            ))));
        }
        if !feed(Some(&buf[..n])) {
            break;
        }
    }
    feed(None);
    Ok(())
}

/// Reads a whole JSON document, stopping at `limit` bytes: a larger one is refused without
/// reading (or holding) the rest, and so is an input whose first bytes cannot begin JSON.
pub fn read_document(name: &str, limit: usize) -> Result<Vec<u8>, String> {
    let mut input = open_input(name)
        .map_err(|e| e.to_string())?
        .take(limit as u64 + 1);
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut begun = false;
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        data.extend_from_slice(&chunk[..n]);
        if begun {
            continue;
        }
        // JSON begins with an object or an array (after blanks, and perhaps a UTF-8 BOM).
        let start = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&data);
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {}
            Some(b'{' | b'[') => begun = true,
            Some(_) => {
                let hint = match capture_kind(&data) {
                    Some(kind) => format!("this is a {kind} capture: use `sunpower decode`"),
                    None => "not a JSON document".to_owned(),
                };
                return Err(hint);
            }
        }
    }
    if data.len() > limit {
        return Err(format!(
            "the document is over the limit of {limit} bytes (not read further)"
        ));
    }
    Ok(data)
}

/// One JSON value and its line end (the kinds other than collector records: batteries, site
/// totals...).
pub fn json_line(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}
