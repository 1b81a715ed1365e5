#!/usr/bin/env bash
# `sunpower parse BODY > /dev/null` relative to `sunpower stats --body BODY` on the same large
# body, end to end with the release binary, timed alternately for ROUNDS rounds (issue 15
# target: parse's speed relative to stats at least 3 times what it was with serde_json). With
# BASE=path/to/an/older/sunpower, that binary's parse (and stats) are timed in the same rounds,
# and the improvement factor of the relative speeds is printed.
#
#   benches/scripts/json_ratio.sh [BODY_FILE]
#   BASE=/tmp/sunpower-main benches/scripts/json_ratio.sh
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), ROUNDS (default 7), COPIES
# (default 10: the body is the 2 MB backlog replay written COPIES times, about 20 MB).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
rounds="${ROUNDS:-7}"
copies="${COPIES:-10}"
body="${1:-$target/bench-data/backlog-body-x$copies.txt}"

cargo build --release -q -p sunpower-cli
cargo build --profile profiling -q -p sunpower-benches --bin body_bench
bin="$target/release/sunpower"
mkdir -p "$(dirname "$body")"
if [ ! -f "$body" ]; then
    one="$target/bench-data/backlog-body.txt"
    [ -f "$one" ] || "$target/profiling/body_bench" write-large "$one"
    for _ in $(seq "$copies"); do cat "$one"; done >"$body"
fi
bytes=$(wc -c <"$body")
echo "body: $body ($bytes bytes, $(wc -l <"$body") lines)"

# Seconds of one run of the command (output to /dev/null).
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

stats=() parse=() base_stats=() base_parse=()
for _ in $(seq "$rounds"); do
    stats+=("$(secs "$bin" stats --body "$body")")
    parse+=("$(secs "$bin" parse "$body")")
    if [ -n "${BASE:-}" ]; then
        base_stats+=("$(secs "$BASE" stats --body "$body")")
        base_parse+=("$(secs "$BASE" parse "$body")")
    fi
done
mbs() { echo "$bytes / $1 / 1000000" | bc -l | xargs printf '%.1f'; }
s=$(median "${stats[@]}")
p=$(median "${parse[@]}")
rel=$(echo "$s / $p" | bc -l)
printf 'ratio this build: stats --body %s MB/s, parse %s MB/s, parse = %.3f of stats\n' \
    "$(mbs "$s")" "$(mbs "$p")" "$rel"
if [ -n "${BASE:-}" ]; then
    bs=$(median "${base_stats[@]}")
    bp=$(median "${base_parse[@]}")
    brel=$(echo "$bs / $bp" | bc -l)
    printf 'ratio BASE: stats --body %s MB/s, parse %s MB/s, parse = %.3f of stats\n' \
        "$(mbs "$bs")" "$(mbs "$bp")" "$brel"
    printf 'ratio improvement of parse relative to stats: x%.2f\n' "$(echo "$rel / $brel" | bc -l)"
fi
