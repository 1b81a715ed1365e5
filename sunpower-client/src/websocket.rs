//! The telemetry WebSocket: plain `ws://` on the supervisor's port 9002, one JSON text a frame.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use sunpower_proto::DocumentLimits;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use crate::ClientError;

/// An open telemetry socket.
#[derive(Debug)]
pub struct TelemetrySocket {
    ws: WebSocket<TcpStream>,
}

impl TelemetrySocket {
    /// Opens `ws://ADDR/` (`ADDR` is `host:port`), connection and handshake within `timeout`.
    /// Frames are refused past the telemetry decoder's limit
    /// ([`DocumentLimits::max_frame_bytes`]), so a socket cannot make memory grow.
    pub fn connect(addr: &str, timeout: Duration) -> Result<TelemetrySocket, ClientError> {
        let addrs = addr
            .to_socket_addrs()
            .map_err(|e| ClientError::Connect(format!("{addr}: {e}")))?;
        let mut last = None;
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = stream.ok_or_else(|| {
            ClientError::Connect(match last {
                Some(e) => format!("{addr}: {e}"),
                None => format!("{addr}: no address"),
            })
        })?;
        stream
            .set_read_timeout(Some(timeout))
            .and_then(|()| stream.set_write_timeout(Some(timeout)))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let max = DocumentLimits::default().max_frame_bytes;
        let config = WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max));
        let (ws, _) =
            tungstenite::client::client_with_config(format!("ws://{addr}/"), stream, Some(config))
                .map_err(|e| match e {
                    tungstenite::HandshakeError::Failure(e) => ws_error(e),
                    // A blocking stream whose read timed out mid-handshake.
                    tungstenite::HandshakeError::Interrupted(_) => ClientError::Timeout,
                })?;
        Ok(TelemetrySocket { ws })
    }

    /// The next frame's text, waiting at most `wait` (`Ok(None)`: nothing came). Pings are
    /// answered and skipped; a close or a broken socket is an error.
    pub fn read_frame(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, ClientError> {
        let wait = wait.max(Duration::from_millis(1));
        self.ws
            .get_mut()
            .set_read_timeout(Some(wait))
            .map_err(|e| ClientError::Cut(e.to_string()))?;
        loop {
            match self.ws.read() {
                Ok(Message::Text(text)) => return Ok(Some(text.as_bytes().to_vec())),
                Ok(Message::Binary(bytes)) => return Ok(Some(bytes.to_vec())),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                Ok(Message::Close(_)) => return Err(ClientError::Closed),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(ws_error(e)),
            }
        }
    }

    /// Closes the socket (after a silence): a close frame, without waiting for the answer.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}

fn ws_error(e: tungstenite::Error) -> ClientError {
    use tungstenite::Error as E;
    match e {
        E::ConnectionClosed | E::AlreadyClosed => ClientError::Closed,
        E::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            ClientError::Timeout
        }
        E::Io(e) => ClientError::Cut(e.to_string()),
        E::Capacity(e) => ClientError::Cut(e.to_string()),
        other => ClientError::Cut(other.to_string()),
    }
}
