//! The broker's address, `mqtt://[USER[:PASSWORD]@]HOST[:PORT][/]`, parsed by hand: the five
//! parts a broker URL has need no URL crate, and the password never reaches an error or a
//! `Debug` output.

use std::fmt;

use crate::Error;

/// The port of plain MQTT.
pub const DEFAULT_PORT: u16 = 1883;

/// A broker's address and the credentials given in its URL.
///
/// ```
/// use sunpower_publish::MqttUrl;
/// let url: MqttUrl = "mqtt://owner:s%40cret@broker.lan:1884".parse().unwrap();
/// assert_eq!((url.host(), url.port(), url.user()), ("broker.lan", 1884, Some("owner")));
/// assert_eq!(url.password(), Some("s@cret"));
/// // Neither `Debug` nor `Display` shows the password.
/// assert_eq!(url.to_string(), "mqtt://owner:***@broker.lan:1884");
/// assert!(!format!("{url:?}").contains("cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MqttUrl {
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<String>,
}

impl MqttUrl {
    /// The broker's host name or address (an IPv6 address without its brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The broker's port (1883 unless given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name, if the URL has one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, if the URL has one.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

impl fmt::Display for MqttUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mqtt://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}")?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Debug for MqttUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MqttUrl({self})")
    }
}

impl std::str::FromStr for MqttUrl {
    type Err = Error;

    /// Parses `mqtt://` (or `tcp://`) URLs; `mqtts://` is refused, as this build has no TLS.
    /// The error says what is wrong, never the URL's text (it may hold a password).
    fn from_str(text: &str) -> Result<MqttUrl, Error> {
        let bad = |reason: &str| Error::Url(reason.to_owned());
        let rest = if let Some(rest) = strip_prefix_ignore_case(text, "mqtt://") {
            rest
        } else if let Some(rest) = strip_prefix_ignore_case(text, "tcp://") {
            rest
        } else if strip_prefix_ignore_case(text, "mqtts://").is_some()
            || strip_prefix_ignore_case(text, "ssl://").is_some()
        {
            return Err(bad("TLS (mqtts://) is not supported: use mqtt://"));
        } else {
            return Err(bad("expected mqtt://HOST[:PORT]"));
        };
        // The authority ends at the first `/` (a path or a bare trailing slash, ignored).
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if path.len() > 1 || authority.contains(['?', '#']) {
            return Err(bad("a broker URL has no path, query or fragment"));
        }
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                let user = percent_decode(user).ok_or_else(|| bad("bad %-escape in the user"))?;
                let password = match password {
                    Some(p) => {
                        Some(percent_decode(p).ok_or_else(|| bad("bad %-escape in the password"))?)
                    }
                    None => None,
                };
                (Some(user), password)
            }
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unclosed [ in the host"))?;
            let port = &v6[end + 1..];
            let port = match port.strip_prefix(':') {
                Some(p) => Some(p),
                None if port.is_empty() => None,
                None => return Err(bad("unexpected text after the IPv6 address")),
            };
            (&v6[..end], port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        {
            return Err(bad("the host has a character no host name has"));
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => return Err(bad("the port is not a number from 1 to 65535")),
            },
        };
        Ok(MqttUrl {
            host: host.to_owned(),
            port,
            user,
            password,
        })
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MqttUrl, Error> {
        text.parse()
    }

    #[test]
    fn host_port_and_defaults() {
        let url = parse("mqtt://127.0.0.1").unwrap();
        assert_eq!(
            (url.host(), url.port(), url.user(), url.password()),
            ("127.0.0.1", 1883, None, None)
        );
        let url = parse("TCP://broker:8883/").unwrap();
        assert_eq!((url.host(), url.port()), ("broker", 8883));
        let url = parse("mqtt://[::1]:1884").unwrap();
        assert_eq!((url.host(), url.port()), ("::1", 1884));
        assert_eq!(url.to_string(), "mqtt://[::1]:1884");
        let url = parse("mqtt://me@h").unwrap();
        assert_eq!((url.user(), url.password()), (Some("me"), None));
        assert_eq!(url.to_string(), "mqtt://me@h:1883");
    }

    #[test]
    fn a_password_with_at_and_colon_is_decoded() {
        let url = parse("mqtt://u%3Ax:p:w@d@h:2").unwrap();
        assert_eq!(
            (url.user(), url.password(), url.host(), url.port()),
            (Some("u:x"), Some("p:w@d"), "h", 2)
        );
    }

    #[test]
    fn errors_never_show_the_password() {
        for text in [
            "mqtts://u:hunter2@h",
            "http://u:hunter2@h",
            "mqtt://u:hunter2@h:99999",
            "mqtt://u:hunter2@h:0",
            "mqtt://u:hunter2@h/topic",
            "mqtt://u:hunter2@",
            "mqtt://u:hunter2%zz@h",
            "mqtt://u:hunter2@[::1",
            "mqtt://u:hunter2@ho st",
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{text}: {error}");
            assert!(error.starts_with("broker URL: "), "{error}");
        }
        let url = parse("mqtt://u:hunter2@h").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }
}
