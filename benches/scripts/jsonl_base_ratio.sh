#!/usr/bin/env bash
# JSON Lines end to end against the binary of a base commit (issue 21: the redesign may cost at
# most 10 % of 12c62c9's speed): `sunpower decode CAPTURE` (the sample capture replayed for 11
# days by big_capture, about 24 MB) and `sunpower parse BODY` (the 2 MB backlog replay written
# COPIES times), output to /dev/null, each command of the two binaries timed alternately for
# ROUNDS rounds. Prints each one's median seconds and the speed ratio base/new of the medians
# (1.0 = as fast; at least 0.9 is the target).
#
#   benches/scripts/jsonl_base_ratio.sh [BASE_COMMIT]    # default 12c62c9
#
# The base is built once from `git archive` of the commit, under
# $CARGO_TARGET_DIR/bench-base/<commit>/ (a release build, a few minutes). Environment:
# CARGO_TARGET_DIR (default: the workspace's target/), ROUNDS (default 7), COPIES (default 10).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
base_commit="${1:-12c62c9}"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target"
target="$(cd "$target" && pwd)"
rounds="${ROUNDS:-7}"
copies="${COPIES:-10}"

base_dir="$target/bench-base/$base_commit"
base_bin="$base_dir/target/release/sunpower"
if [ ! -x "$base_bin" ]; then
    echo "building sunpower at $base_commit (release) in $base_dir"
    rm -rf "$base_dir/src"
    mkdir -p "$base_dir/src"
    git archive "$base_commit" | tar -x -C "$base_dir/src"
    (cd "$base_dir/src" && CARGO_TARGET_DIR="$base_dir/target" cargo build --release -q -p sunpower-cli)
fi
cargo build --release -q -p sunpower-cli
cargo build --profile profiling -q -p sunpower-benches --bin body_bench --bin big_capture
new_bin="$target/release/sunpower"

data="$target/bench-data"
mkdir -p "$data"
capture="$data/ten.pcap"
[ -f "$capture" ] || "$target/profiling/big_capture" "$capture" 24 >/dev/null
body="$data/backlog-body-x$copies.txt"
if [ ! -f "$body" ]; then
    one="$data/backlog-body.txt"
    [ -f "$one" ] || "$target/profiling/body_bench" write-large "$one"
    for _ in $(seq "$copies"); do cat "$one"; done >"$body"
fi
echo "capture: $capture ($(wc -c <"$capture") bytes); body: $body ($(wc -c <"$body") bytes)"
echo "base: $base_bin ($base_commit); new: $new_bin ($(git rev-parse --short HEAD))"

python3 - "$rounds" "$base_bin" "$new_bin" "$capture" "$body" <<'PY'
import statistics
import subprocess
import sys
import time

rounds, base, new, capture, body = int(sys.argv[1]), *sys.argv[2:]
commands = {"decode": ["decode", capture], "parse": ["parse", body]}


def seconds(binary, args):
    start = time.perf_counter()
    subprocess.run([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


for name, args in commands.items():
    seconds(base, args), seconds(new, args)  # warm the page cache
    times = {"base": [], "new": []}
    for _ in range(rounds):
        times["base"].append(seconds(base, args))
        times["new"].append(seconds(new, args))
    b, n = statistics.median(times["base"]), statistics.median(times["new"])
    print(f"{name}: base {b:.3f} s, new {n:.3f} s (medians of {rounds}); speed ratio base/new {b / n:.3f}")
PY
