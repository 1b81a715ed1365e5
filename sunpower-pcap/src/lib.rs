//! Offline capture reading, TCP reassembly and HTTP request framing: from capture bytes to
//! complete SunPower collector POST bodies.
#![forbid(unsafe_code)]

pub mod capture;
pub mod decoder;
pub mod flow;
pub mod http;
pub mod ip;
pub mod link;
pub mod tcp;
pub mod writer;
