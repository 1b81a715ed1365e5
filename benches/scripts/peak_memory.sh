#!/usr/bin/env bash
# Peak memory (maximum resident set size) and throughput of `sunpower stats` and
# `sunpower decode > /dev/null` on a ~100 MB and a ~1 GB capture, to show that memory stays flat
# whatever the capture's size (issue 6). The captures are examples/sample.pcap replayed day after
# day (benches/src/bin/big_capture.rs, streamed to disk) and are deleted at the end. MIXED=1 adds
# each day TLS video streaming and an HTTP download (collector posts ~5 % of the bytes, not 41 %).
#
#   benches/scripts/peak_memory.sh [SIZES_MB...]      (default: 100 1000)
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), BENCH_DATA (default:
# $CARGO_TARGET_DIR/bench-data), KEEP=1 to keep the captures.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
data="${BENCH_DATA:-$target/bench-data}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)

if [ ! -x /usr/bin/time ]; then
    echo "/usr/bin/time missing: installing Debian's time package"
    apt-get update -qq && apt-get install -y -qq time
fi

cargo build --profile profiling -q -p sunpower-cli -p sunpower-benches --bin sunpower \
    --bin big_capture
sunpower="$target/profiling/sunpower"
mkdir -p "$data"
files=()
trap 'if [ "${KEEP:-0}" != 1 ]; then rm -f "${files[@]}"; fi' EXIT

# Runs a command under /usr/bin/time -v; prints peak RSS and MB/s (MB = 10^6 bytes).
measure() {
    local label="$1" bytes="$2"
    shift 2
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log"; rm -f "$log"; return 1; }
    local rss wall
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
    rm -f "$log"
    awk -v l="$label" -v b="$bytes" -v r="$rss" -v w="$wall" 'BEGIN {
        n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i];
        printf "%-34s peak RSS %7.1f MiB   %7.2f s   %6.1f MB/s\n", l, r / 1024, s, b / s / 1e6
    }'
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(date -u +%Y-%m-%dT%H:%MZ)"
for mb in "${sizes[@]}"; do
    kind=sample
    [ "${MIXED:-0}" = 1 ] && kind=mixed
    file="$data/replay-$kind-${mb}MB.pcap"
    files+=("$file")
    if [ "$kind" = mixed ]; then
        "$target/profiling/big_capture" --mixed "$file" "$mb"
    else
        "$target/profiling/big_capture" "$file" "$mb"
    fi
    bytes=$(stat -c %s "$file")
    measure "stats $kind ${mb}MB ($bytes B)" "$bytes" "$sunpower" stats "$file"
    measure "decode $kind ${mb}MB > /dev/null" "$bytes" "$sunpower" decode "$file"
done
