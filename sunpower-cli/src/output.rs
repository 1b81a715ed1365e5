//! Writing JSON Lines to standard output, buffered.

use std::io::{self, BufWriter, Write};

use sunpower_proto::{Channel, JsonRecord, Record};

/// A buffered JSON Lines writer on standard output.
pub struct JsonLines {
    out: BufWriter<io::StdoutLock<'static>>,
}

impl JsonLines {
    pub fn stdout() -> Self {
        JsonLines {
            out: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        }
    }

    /// Writes one record as a JSON object on its own line.
    pub fn record(&mut self, record: &Record<'_>, channel: Option<Channel>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &JsonRecord::new(record, channel))?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a whole input: a path, or `-` for standard input.
pub fn read_input(name: &str) -> io::Result<Vec<u8>> {
    if name == "-" {
        let mut data = Vec::new();
        io::Read::read_to_end(&mut io::stdin().lock(), &mut data)?;
        Ok(data)
    } else {
        std::fs::read(name)
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
