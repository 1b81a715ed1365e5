//! Which requests are kept: the [`BodyFilter`], and the collector-path rule
//! ([`collector_target`]) that the default filter and the decoder's channels rest on.

use sunpower_proto::Channel;

use super::framer::{Request, RequestFramer};

/// Which request bodies a [`RequestFramer`] buffers and delivers.
///
/// ```
/// use sunpower_pcap::http::{BodyFilter, FramerConfig};
/// let cfg = FramerConfig { bodies: BodyFilter::AllPost, ..FramerConfig::default() };
/// assert!(matches!(cfg.bodies, BodyFilter::AllPost));
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub enum BodyFilter {
    /// Requests whose path ends with `SMS2DataCollector.aspx` (the default).
    #[default]
    CollectorPath,
    /// Every `POST` request, plus collector-path requests of any method.
    AllPost,
    /// Every request.
    All,
}

/// The collector-path rule, in one place: whether a request target (origin-form or
/// absolute-form, query and fragment ignored) is the collector's endpoint, a path ending with
/// `SMS2DataCollector.aspx` compared ASCII case-insensitively as the collector's IIS server does,
/// and on which channel: `None` for another target; for the collector's, `Some` of the nearest
/// directory of the path named `Data` or `Command` (ASCII case-insensitive), `Some(None)` when
/// neither appears.
///
/// ```
/// use sunpower_pcap::http::collector_target;
/// use sunpower_proto::Channel;
/// let data = Some(Some(Channel::Data));
/// assert_eq!(collector_target("/Data/SMS2DataCollector.aspx"), data);
/// assert_eq!(collector_target("http://host:80/Data/SMS2DataCollector.aspx?x=1"), data);
/// assert_eq!(collector_target("/command/sms2datacollector.ASPX"), Some(Some(Channel::Command)));
/// assert_eq!(collector_target("/SMS2DataCollector.aspx"), Some(None));
/// assert_eq!(collector_target("/Data/other.aspx"), None);
/// assert_eq!(collector_target("/index.html"), None);
/// ```
pub fn collector_target(target: &str) -> Option<Option<Channel>> {
    let path = request_path(target);
    is_collector_path(path).then(|| path_channel(path))
}

/// The request target's path: scheme and authority of an absolute-form target removed, query
/// and fragment removed.
pub(super) fn request_path(target: &str) -> &str {
    // Byte searches: a substring search sets up a two-way matcher, which costs more than the
    // whole of a short target (every collector post goes through here).
    let rest = match target.as_bytes() {
        [b'/', ..] => target,
        bytes => match bytes.windows(3).position(|w| w == b"://") {
            Some(i) => {
                let after = &target[i + 3..];
                match after.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')) {
                    Some(j) if after.as_bytes()[j] == b'/' => &after[j..],
                    _ => return "/",
                }
            }
            None => target,
        },
    };
    match rest.bytes().position(|b| matches!(b, b'?' | b'#')) {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// Whether a path (see [`request_path`]) ends with `SMS2DataCollector.aspx`, ASCII
/// case-insensitively.
pub(super) fn is_collector_path(path: &str) -> bool {
    const SUFFIX: &[u8] = b"SMS2DataCollector.aspx";
    let p = path.as_bytes();
    p.len() >= SUFFIX.len() && p[p.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX)
}

/// The nearest directory of a path named `Data` or `Command`; a query string is ignored.
pub(super) fn path_channel(path: &str) -> Option<Channel> {
    // On bytes: char-pattern splitting costs about a thousand instructions per post.
    let path = path.as_bytes();
    let end = (path.iter())
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(path.len());
    let path = &path[..end];
    let dirs = &path[..path.iter().rposition(|&b| b == b'/')?];
    dirs.rsplit(|&b| b == b'/').find_map(|dir| {
        if dir.eq_ignore_ascii_case(b"data") {
            Some(Channel::Data)
        } else if dir.eq_ignore_ascii_case(b"command") {
            Some(Channel::Command)
        } else {
            None
        }
    })
}

impl RequestFramer {
    /// Whether the [`BodyFilter`] keeps the body of `req`.
    pub(super) fn selected(&self, req: &Request) -> bool {
        let collector = || collector_target(self.target(req)).is_some();
        match self.cfg.bodies {
            BodyFilter::CollectorPath => collector(),
            BodyFilter::AllPost => self.method(req) == "POST" || collector(),
            BodyFilter::All => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::*;
    use crate::http::FramerConfig;
    use proptest::prelude::*;

    #[test]
    fn unselected_bodies_are_counted_not_kept() {
        let mut f = RequestFramer::new(Default::default());
        let ev = run_with(
            &mut f,
            &[
                b"PUT /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
                b"hel",
                b"lo",
            ],
        );
        assert_eq!(ev, vec![Ev::Unsel(0, "PUT".into(), "/x".into(), 5)]);
        assert_eq!(f.stats().discarded_body_bytes, 5);
        assert_eq!(f.stats().requests, 1);
    }

    #[test]
    fn all_post_filter_keeps_other_post_bodies() {
        let cfg = FramerConfig {
            bodies: BodyFilter::AllPost,
            ..Default::default()
        };
        let mut f = RequestFramer::new(cfg);
        let ev = run_with(&mut f, &[b"POST /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nz"]);
        assert_eq!(ev, vec![req(0, "/x", b"z")]);
    }

    #[test]
    fn paths_and_channels() {
        assert_eq!(request_path("/a/b?c#d"), "/a/b");
        assert_eq!(request_path("https://h?x"), "/");
        assert_eq!(request_path("*"), "*");
        assert!(is_collector_path(request_path(
            "http://h/Data/SMS2DataCollector.aspx?x"
        )));
        let channel = |t| collector_target(t).flatten();
        assert_eq!(
            channel("/x/Data/SMS2DataCollector.aspx"),
            Some(Channel::Data)
        );
        assert_eq!(
            channel("/DATA/COMMAND/SMS2DataCollector.aspx"),
            Some(Channel::Command)
        );
        assert_eq!(channel("SMS2DataCollector.aspx"), None);
        assert_eq!(collector_target("/Data/SMS2DataCollector.aspx.bak"), None);
        // Moved from sunpower-proto's `Channel::from_path`.
        assert_eq!(
            path_channel("/command/sms2datacollector.aspx?x=1"),
            Some(Channel::Command)
        );
        assert_eq!(path_channel("/index.html"), None);
    }

    /// The first versions of `request_path` and `path_channel`, on `str` searches: the
    /// byte versions must agree with them on everything.
    fn request_path_by_str(target: &str) -> &str {
        let rest = match target.find("://") {
            Some(i) if !target.starts_with('/') => {
                let after = &target[i + 3..];
                match after.find(['/', '?', '#']) {
                    Some(j) if after.as_bytes()[j] == b'/' => &after[j..],
                    _ => return "/",
                }
            }
            _ => target,
        };
        match rest.find(['?', '#']) {
            Some(i) => &rest[..i],
            None => rest,
        }
    }

    fn channel_by_str(path: &str) -> Option<Channel> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let dirs = &path[..path.rfind('/')?];
        dirs.rsplit('/').find_map(|dir| {
            if dir.eq_ignore_ascii_case("data") {
                Some(Channel::Data)
            } else if dir.eq_ignore_ascii_case("command") {
                Some(Channel::Command)
            } else {
                None
            }
        })
    }

    proptest! {
        #[test]
        fn paths_and_channels_agree_with_the_str_versions(
            target in "(http://|https://|/|\\*|h:/)?([/:?#.é]|Data|data|COMMAND|Command|x|aspx){0,12}",
        ) {
            prop_assert_eq!(request_path(&target), request_path_by_str(&target));
            prop_assert_eq!(path_channel(&target), channel_by_str(&target));
            let path = request_path_by_str(&target);
            let expected = path
                .to_ascii_lowercase()
                .ends_with("sms2datacollector.aspx")
                .then(|| channel_by_str(path));
            prop_assert_eq!(collector_target(&target), expected);
        }
    }
}
