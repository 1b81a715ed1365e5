//! `--format parquet` in a `sunpower` built without the `parquet` feature (the default, which
//! keeps the binary small): the same names as `parquet.rs`, and a clear usage error.

use std::io;
use std::path::{Path, PathBuf};

use sunpower_proto::intervals::{Interval, Tz};

use crate::capture::CaptureArgs;
use crate::Outcome;

const NOT_BUILT: &str = "--format parquet: this sunpower was built without Parquet support \
(cargo install sunpower-cli --features parquet)";

pub fn decode(_args: &CaptureArgs, _dir: &Path) -> io::Result<Outcome> {
    eprintln!("sunpower: {NOT_BUILT}");
    Ok(Outcome::Usage)
}

pub fn vars(_vars: &sunpower_proto::Vars, _dir: &Path) -> io::Result<Outcome> {
    eprintln!("sunpower: {NOT_BUILT}");
    Ok(Outcome::Usage)
}

/// Cannot be made: `create` always fails, so there is nothing to write.
pub enum IntervalsFile {}

impl IntervalsFile {
    pub fn create(_path: PathBuf, _tz: Tz) -> io::Result<IntervalsFile> {
        Err(io::Error::new(io::ErrorKind::Unsupported, NOT_BUILT))
    }

    pub fn write(&mut self, _rows: &[Interval]) -> io::Result<()> {
        match *self {}
    }

    pub fn close(self) -> io::Result<()> {
        match self {}
    }
}

/// Cannot be made, as [`IntervalsFile`].
pub enum FindingsFile {}

impl FindingsFile {
    pub fn create(_path: PathBuf) -> io::Result<FindingsFile> {
        Err(io::Error::new(io::ErrorKind::Unsupported, NOT_BUILT))
    }

    pub fn write(&mut self, _findings: &[sunpower_proto::health::Finding]) -> io::Result<()> {
        match *self {}
    }

    pub fn close(self) -> io::Result<()> {
        match self {}
    }
}
