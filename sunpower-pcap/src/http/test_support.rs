//! What the framer's unit tests share: events owned for comparison, runs over chunked input,
//! sample requests.

use proptest::prelude::*;

use super::{FramingError, HttpEvent, RequestFramer};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ev {
    Req(u64, String, String, Vec<u8>),
    Unsel(u64, String, String, u64),
    Incomplete(u64, String, Vec<u8>, Option<u64>),
    Err(u64, FramingError),
    Skip(u64, u64),
    Resp(u64),
    NotHttp(u8),
    Over(u64, String, bool, Option<u64>),
}

pub(super) fn own(e: HttpEvent<'_>) -> Ev {
    match e {
        HttpEvent::Request {
            at,
            method,
            target,
            body,
        } => Ev::Req(at, method.into(), target.into(), body.to_vec()),
        HttpEvent::Unselected {
            at,
            method,
            target,
            body_len,
        } => Ev::Unsel(at, method.into(), target.into(), body_len),
        HttpEvent::IncompleteBody {
            at,
            target,
            received,
            missing,
            ..
        } => Ev::Incomplete(at, target.into(), received.to_vec(), missing),
        HttpEvent::Error { at, error } => Ev::Err(at, error),
        HttpEvent::Skipped { at, len } => Ev::Skip(at, len),
        HttpEvent::Response { at } => Ev::Resp(at),
        HttpEvent::NotHttp { first_byte } => Ev::NotHttp(first_byte),
        HttpEvent::OversizedBody {
            at,
            target,
            selected,
            declared,
            ..
        } => Ev::Over(at, target.into(), selected, declared),
    }
}

pub(super) fn run_with(f: &mut RequestFramer, chunks: &[&[u8]]) -> Vec<Ev> {
    let mut out = Vec::new();
    for c in chunks {
        f.feed(c, |e| out.push(own(e)));
    }
    f.finish(|e| out.push(own(e)));
    out
}

pub(super) fn run(input: &[u8]) -> Vec<Ev> {
    run_with(&mut RequestFramer::new(Default::default()), &[input])
}

pub(super) const COLLECTOR: &str = "/Data/SMS2DataCollector.aspx";
pub(super) const POST: &[u8] = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n100\tSPMS\t10\n";
pub(super) const CHUNKED: &[u8] = b"POST /Command/SMS2DataCollector.aspx HTTP/1.1\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=\"a b\"\r\n100\tS\r\n0007 \r\nPMS\t10\n\r\n0\r\nX-Trailer: 1\r\n\r\n";

pub(super) fn req(at: u64, target: &str, body: &[u8]) -> Ev {
    Ev::Req(at, "POST".into(), target.into(), body.to_vec())
}

pub(super) fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(POST.to_vec()),
        Just(CHUNKED.to_vec()),
        Just(b"GET /x HTTP/1.1\r\nHost: y\r\n\r\n".to_vec()),
        Just(b"POST /other HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi".to_vec()),
        Just(b"junk line\n".to_vec()),
        Just(b"GET /big HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\nbody\n".to_vec()),
        Just(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec()),
    ]
}
