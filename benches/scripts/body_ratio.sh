#!/usr/bin/env bash
# Body parsing vs a naive Python decoder, on the same body file, in the same run (issue 6 target:
# at least 30 times faster). Writes the 2 MB backlog body of the criterion benchmark, times
# `Body::records()` on it (benches/src/bin/body_bench.rs, built with the `profiling` profile:
# the release code plus line tables) and the naive Python decoder (python_baseline.py),
# alternately for ROUNDS rounds, and prints each and the ratio of the medians.
#
#   benches/scripts/body_ratio.sh [BODY_FILE]
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), PYTHON (default: python3),
# SECONDS_EACH (default 3), ROUNDS (default 3).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
python="${PYTHON:-python3}"
secs="${SECONDS_EACH:-3}"
rounds="${ROUNDS:-3}"
body="${1:-$target/bench-data/backlog-body.txt}"

cargo build --profile profiling -q -p sunpower-benches --bin body_bench
bin="$target/profiling/body_bench"
mkdir -p "$(dirname "$body")"
[ -f "$body" ] || "$bin" write-large "$body"

echo "body: $body ($(wc -c <"$body") bytes, $(wc -l <"$body") lines)"
echo "python: $("$python" --version 2>&1)"
rust=()
py=()
for _ in $(seq "$rounds"); do
    r=$("$bin" time "$body" "$secs")
    p=$("$python" "$root/benches/scripts/python_baseline.py" "$body" "$secs")
    echo "$r"
    echo "$p"
    rust+=("$(sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' <<<"$r")")
    py+=("$(sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' <<<"$p")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
r=$(median "${rust[@]}")
p=$(median "${py[@]}")
awk -v r="$r" -v p="$p" 'BEGIN {
    printf "median: Body::records %.1f MB/s, naive Python %.2f MB/s, ratio x%.1f (target x30)\n", r, p, r / p
}'
