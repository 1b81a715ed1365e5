//! Prints the framer's events for a stream fed whole and fed a byte at a time, to explain an
//! `http_framer` failure: `cargo run --example show_http -- <input file in the target's format>`.

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

fn main() {
    let path = std::env::args().nth(1).expect("usage: show_http <file>");
    let data = std::fs::read(path).unwrap();
    for (name, events) in harness::http_events_whole_and_bytewise(&data) {
        println!("{name}:");
        for e in events {
            println!("  {e:?}");
        }
    }
}
