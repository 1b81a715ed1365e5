#!/usr/bin/env bash
# Instructions per input byte, counted by valgrind's callgrind (deterministic, so the figure does
# not depend on the machine's load and carries over to a slower CPU such as a Raspberry Pi's
# better than seconds do). `perf stat -e instructions` is used instead when it works and
# USE_PERF=1. Startup cost is removed by subtracting a run on a tiny input of the same kind.
#
#   benches/scripts/instructions_per_byte.sh
#
# Measures:
#   body     `sunpower stats --body` on the 2 MB backlog body (minus a one-line body)
#   library  `body_bench time BODY 0` (Body::records() alone, twice over the body; minus the same
#            on a one-line body)
#   capture  `sunpower stats examples/sample.pcap` (minus a capture with no packet): one day,
#            collector posts 41 % of the bytes
#   mixed    `sunpower stats` on one day of mixed traffic (`big_capture --mixed`: the sample day
#            plus TLS streaming and an HTTP download; collector posts ~5 % of the bytes)
#   stages   the same day through `capture_bench` (the capture benchmark's functions): raw
#            pcap-parser iteration, the reader alone, decoding to posts, and with every record
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
data="$target/bench-data"
mkdir -p "$data"

# The `profiling` profile: the release code with line tables, for callgrind_annotate.
cargo build --profile profiling -q -p sunpower-cli -p sunpower-benches --bin sunpower \
    --bin body_bench --bin big_capture --bin capture_bench
sunpower="$target/profiling/sunpower"
body_bench="$target/profiling/body_bench"
body="$data/backlog-body.txt"
[ -f "$body" ] || "$body_bench" write-large "$body"
tiny_body="$data/tiny-body.txt"
printf '102\t51oeIKDhOUeah8+9ZCME\n' >"$tiny_body"
empty_pcap="$data/empty.pcap"
head -c 24 examples/sample.pcap >"$empty_pcap"
mixed_pcap="$data/mixed-1day.pcap"
# Written every time (about a second), so that a change to the generator is never measured on a
# stale file.
"$target/profiling/big_capture" --mixed "$mixed_pcap" 1 >/dev/null

if [ "${USE_PERF:-0}" = 1 ] && perf stat -x, -e instructions:u true 2>&1 | grep -q '^[0-9]'; then
    tool=perf
    count() { perf stat -x, -e instructions:u "$@" 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}'; }
else
    if ! command -v valgrind >/dev/null; then
        echo "valgrind missing: installing Debian's valgrind package"
        apt-get update -qq && apt-get install -y -qq valgrind
    fi
    tool=callgrind
    count() {
        local log
        log=$(mktemp)
        valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$log" "$@" >/dev/null 2>&1
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log"
        rm -f "$log"
    }
fi

# label, input bytes, passes over the input, count on the tiny input, count on the full input
show() {
    awk -v l="$1" -v b="$2" -v p="$3" -v t="$4" -v f="$5" 'BEGIN {
        printf "%-8s %13d instr, %10d startup, %8d bytes x%d: %6.1f instructions/byte\n",
            l, f, t, b, p, (f - t) / (b * p)
    }'
}

echo "tool: $tool; machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(date -u +%Y-%m-%dT%H:%MZ)"
body_bytes=$(stat -c %s "$body")
pcap_bytes=$(stat -c %s examples/sample.pcap)
show body "$body_bytes" 1 "$(count "$sunpower" stats --body "$tiny_body")" \
    "$(count "$sunpower" stats --body "$body")"
show library "$body_bytes" 2 "$(count "$body_bench" time "$tiny_body" 0)" \
    "$(count "$body_bench" time "$body" 0)"
show capture "$pcap_bytes" 1 "$(count "$sunpower" stats "$empty_pcap")" \
    "$(count "$sunpower" stats examples/sample.pcap)"
show mixed "$(stat -c %s "$mixed_pcap")" 1 "$(count "$sunpower" stats "$empty_pcap")" \
    "$(count "$sunpower" stats "$mixed_pcap")"
capture_bench="$target/profiling/capture_bench"
for stage in raw reader posts records; do
    show "$stage" "$(stat -c %s "$mixed_pcap")" 1 "$(count "$capture_bench" "$stage" "$empty_pcap")" \
        "$(count "$capture_bench" "$stage" "$mixed_pcap")"
done
