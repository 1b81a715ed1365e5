//! Capture inputs: paths opened when their turn comes, or readers already open.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// One capture input: a path or an already open reader, with a display name.
///
/// ```
/// use sunpower_pcap::capture::Input;
/// let input = Input::from_reader("stdin", std::io::empty());
/// assert_eq!(input.name(), "stdin");
/// assert_eq!(input.len(), None);
/// ```
pub struct Input {
    name: String,
    source: Source,
    len: Option<u64>,
}

enum Source {
    Path(PathBuf),
    Reader(Box<dyn Read + Send>),
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// A file to open when its turn comes; its size (for progress) is taken now if available.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// let input = Input::from_path("/nonexistent/x.pcap");
    /// assert_eq!(input.name(), "/nonexistent/x.pcap");
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Input {
        let path = path.as_ref();
        Input {
            name: path.display().to_string(),
            len: std::fs::metadata(path).ok().map(|m| m.len()),
            source: Source::Path(path.to_path_buf()),
        }
    }

    /// Any byte source, e.g. a pipe or a Python file object; `name` is used in messages.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// let input = Input::from_reader("data", std::io::Cursor::new(vec![1, 2, 3])).with_len(3);
    /// assert_eq!(input.len(), Some(3));
    /// ```
    pub fn from_reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Input {
        Input {
            name: name.into(),
            source: Source::Reader(Box::new(reader)),
            len: None,
        }
    }

    /// Standard input, named `-`.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().name(), "-");
    /// ```
    pub fn stdin() -> Input {
        Input::from_reader("-", io::stdin())
    }

    /// A command-line argument: `-` is standard input, anything else a path.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::from_arg("-").name(), "-");
    /// assert_eq!(Input::from_arg("a.pcap.gz").name(), "a.pcap.gz");
    /// ```
    pub fn from_arg(arg: impl AsRef<std::ffi::OsStr>) -> Input {
        let arg = arg.as_ref();
        if arg == "-" {
            Input::stdin()
        } else {
            Input::from_path(Path::new(arg))
        }
    }

    /// Sets the total size in bytes, for progress reporting.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().with_len(10).len(), Some(10));
    /// ```
    #[must_use]
    pub fn with_len(mut self, len: u64) -> Input {
        self.len = Some(len);
        self
    }

    /// The name used in messages and [`Packet::input_name`](super::Packet::input_name).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::from_path("a.pcap").name(), "a.pcap");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size in bytes of the input as stored (compressed size for gzip files), if known.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().len(), None);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Option<u64> {
        self.len
    }
}

impl Input {
    /// Opens the input: the file for a path, the reader as it is otherwise.
    pub(crate) fn open(self) -> io::Result<Box<dyn Read + Send>> {
        match self.source {
            Source::Path(path) => Ok(Box::new(File::open(path)?)),
            Source::Reader(r) => Ok(r),
        }
    }
}
