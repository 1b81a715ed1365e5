//! What the decoder does with each event of the flow table: connections opened and closed, stream
//! bytes and holes fed to a framer per direction, and the framers' events made posts, problems and
//! counts.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::connections::{Connection, Connections, CONNECTION_COST};
use super::{DecodeStats, DecoderConfig, Event, Missing, Post, Problem, ProblemKind};
use crate::flow::{Direction, Endpoint, FlowEvent, FlowId};
use crate::http::{collector_target, FramingError, HttpEvent, RequestFramer};
use crate::tcp::StreamEvent;

/// Where the decoder is, lent to the flow-event handler.
pub(super) struct Context<'c> {
    pub(super) max_body_bytes: u64,
    pub(super) input: &'c Arc<str>,
    pub(super) packet: u64,
    pub(super) captured_at: DateTime<Utc>,
}

impl Context<'_> {
    fn problem(&self, flow: FlowId, kind: ProblemKind) -> Event<'static> {
        Event::Problem(Problem {
            input: self.input.clone(),
            packet: self.packet,
            flow: Some(flow),
            kind,
        })
    }
}

/// Handles one event of the flow table: a connection opened or closed, stream bytes, a hole or
/// an end fed to the direction's framer, a conflicting copy or bytes after the close reported.
pub(super) fn on_flow_event(
    event: FlowEvent<'_>,
    connections: &mut Connections,
    memory: &mut usize,
    stats: &mut DecodeStats,
    config: &DecoderConfig,
    at: &Context<'_>,
    sink: &mut impl FnMut(Event<'_>),
) {
    match event {
        FlowEvent::Opened {
            flow,
            initiator,
            responder,
            syn_seen,
        } => {
            *memory += CONNECTION_COST;
            connections.insert(
                flow,
                Connection {
                    initiator,
                    responder,
                    mid_stream: !syn_seen,
                    framers: [None, None],
                },
            );
        }
        FlowEvent::Stream {
            flow,
            direction,
            event: StreamEvent::Conflict { at: offset, len },
        } => {
            stats.conflicting_overlaps += 1;
            let direction = direction_name(connections, flow, direction);
            sink(at.problem(
                flow,
                ProblemKind::ConflictingOverlap {
                    at: offset,
                    len,
                    direction,
                },
            ));
        }
        FlowEvent::Stream {
            flow,
            direction,
            event: StreamEvent::AfterClose { len },
        } => {
            stats.bytes_after_close += len;
            let direction = direction_name(connections, flow, direction);
            sink(at.problem(flow, ProblemKind::AfterClose { len, direction }));
        }
        FlowEvent::Stream {
            flow,
            direction,
            event,
        } => {
            let Some(conn) = connections.get_mut(&flow) else {
                return;
            };
            let (client, server) = match direction {
                Direction::FromInitiator => (conn.initiator, conn.responder),
                Direction::FromResponder => (conn.responder, conn.initiator),
            };
            let Some(framer) = framer_for(conn, direction, &event, config, memory) else {
                return;
            };
            let before = framer.memory_used();
            if let StreamEvent::Gap { at: offset, len } = event {
                stats.gaps += 1;
                stats.bytes_missing += len;
                let direction = if framer.is_response() {
                    "server to client"
                } else {
                    "client to server"
                };
                sink(at.problem(
                    flow,
                    ProblemKind::Gap {
                        at: offset,
                        len,
                        direction,
                    },
                ));
            }
            let mut on_http = |e: HttpEvent<'_>| {
                on_http_event(e, flow, client, server, stats, at, sink);
            };
            match event {
                StreamEvent::Data(data) => framer.feed(data, &mut on_http),
                StreamEvent::Gap { len, .. } => framer.gap(len, &mut on_http),
                StreamEvent::Fin | StreamEvent::Reset => framer.finish(&mut on_http),
                // Handled above: not stream data.
                StreamEvent::Conflict { .. } | StreamEvent::AfterClose { .. } => {}
            }
            *memory = *memory + framer.memory_used() - before;
        }
        FlowEvent::Closed { flow, .. } => {
            if let Some(conn) = connections.remove(&flow) {
                close_connection(flow, conn, memory, stats, at, sink);
            }
        }
    }
}

/// The framer of a connection's direction, made when the direction's first bytes (or hole)
/// arrive and counted against the memory budget; `None` for the end of a direction that carried
/// nothing: nothing to frame.
fn framer_for<'c>(
    conn: &'c mut Connection,
    direction: Direction,
    event: &StreamEvent<'_>,
    config: &DecoderConfig,
    memory: &mut usize,
) -> Option<&'c mut Box<RequestFramer>> {
    let mid_stream = conn.mid_stream;
    match (&mut conn.framers[direction as usize], event) {
        (Some(framer), _) => Some(framer),
        (slot @ None, StreamEvent::Data(_) | StreamEvent::Gap { .. }) => {
            let f = RequestFramer::new(config.http);
            let f = if mid_stream { f.mid_stream() } else { f };
            *memory += f.memory_used();
            Some(slot.insert(Box::new(f)))
        }
        (None, _) => None,
    }
}

/// A closed connection, out of the table: its framers are flushed (a body in progress becomes
/// an incomplete post), their counters added, their memory given back.
fn close_connection(
    flow: FlowId,
    conn: Connection,
    memory: &mut usize,
    stats: &mut DecodeStats,
    at: &Context<'_>,
    sink: &mut impl FnMut(Event<'_>),
) {
    *memory -= CONNECTION_COST;
    for (i, framer) in conn.framers.into_iter().enumerate() {
        let Some(mut framer) = framer else { continue };
        *memory -= framer.memory_used();
        let (client, server) = if i == 0 {
            (conn.initiator, conn.responder)
        } else {
            (conn.responder, conn.initiator)
        };
        framer.finish(|e| on_http_event(e, flow, client, server, stats, at, sink));
        stats.http.add(framer.stats());
    }
}

/// Which way a direction's bytes go, for messages: a stream that carries responses is the
/// server's, whatever its role in the connection.
fn direction_name(connections: &Connections, flow: FlowId, direction: Direction) -> &'static str {
    let server = match connections.get(&flow) {
        Some(conn) => conn.framers[direction as usize]
            .as_ref()
            .is_some_and(|f| f.is_response()),
        None => direction == Direction::FromResponder,
    };
    if server {
        "server to client"
    } else {
        "client to server"
    }
}

fn on_http_event(
    event: HttpEvent<'_>,
    flow: FlowId,
    client: Endpoint,
    server: Endpoint,
    stats: &mut DecodeStats,
    at: &Context<'_>,
    sink: &mut impl FnMut(Event<'_>),
) {
    let post = |method, target, body, missing| Post {
        flow,
        client,
        server,
        method,
        target,
        channel: collector_target(target).flatten(),
        captured_at: at.captured_at,
        input: at.input,
        packet: at.packet,
        body,
        missing,
    };
    match event {
        HttpEvent::Request {
            method,
            target,
            body,
            ..
        } => {
            stats.requests += 1;
            stats.posts += 1;
            sink(Event::Post(post(method, target, body, Missing::Nothing)));
        }
        HttpEvent::IncompleteBody {
            method,
            target,
            received,
            missing,
            ..
        } => {
            stats.requests += 1;
            stats.posts += 1;
            stats.damaged_posts += 1;
            sink(at.problem(
                flow,
                ProblemKind::IncompletePost {
                    target: target.chars().take(200).collect(),
                    received: received.len(),
                    missing,
                },
            ));
            sink(Event::Post(post(
                method,
                target,
                received,
                Missing::cut(missing),
            )));
        }
        HttpEvent::Unselected { .. } => {
            stats.requests += 1;
            stats.other_requests += 1;
        }
        HttpEvent::OversizedBody {
            at: offset,
            selected,
            ..
        } => {
            stats.requests += 1;
            stats.oversized_bodies += 1;
            if selected {
                stats.http_errors += 1;
                let error = FramingError::BodyTooLarge {
                    limit: at.max_body_bytes,
                };
                sink(at.problem(flow, ProblemKind::Http { at: offset, error }));
            } else {
                stats.other_requests += 1;
            }
        }
        HttpEvent::Error { at: offset, error } => {
            stats.http_errors += 1;
            sink(at.problem(flow, ProblemKind::Http { at: offset, error }));
        }
        HttpEvent::Skipped { at: offset, len } => {
            stats.skipped_bytes += len;
            sink(at.problem(flow, ProblemKind::Skipped { at: offset, len }));
        }
        HttpEvent::NotHttp { .. } => stats.non_http_streams += 1,
        // Counted from the framer's own statistics when the connection closes.
        HttpEvent::Response { .. } => {}
    }
}
