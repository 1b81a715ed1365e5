#!/usr/bin/env bash
# Parquet writing of a year of generated home data (issue 15): examples/sample.pcap (one day of a
# 24-panel home, 5,304 records) replayed for 365 days by big_capture (about 794 MB, streamed to
# disk), then `sunpower decode --format parquet` and `sunpower intervals --format parquet` on it,
# each timed against `sunpower stats` on the same file in the same run: ROUNDS rounds (default 3),
# the sides alternately, medians compared. Prints wall time, peak RSS (/usr/bin/time -v), records,
# the dataset's size and files. The capture and the outputs are deleted at the end.
#
#   benches/scripts/parquet_year.sh
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), BENCH_DATA (default:
# $CARGO_TARGET_DIR/bench-data), ROUNDS, DAYS (default 365), MIXED=1 for the mixed home traffic,
# KEEP=1 to keep the files.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
data="${BENCH_DATA:-$target/bench-data}"
rounds="${ROUNDS:-3}"
days="${DAYS:-365}"

if [ ! -x /usr/bin/time ]; then
    echo "/usr/bin/time missing: installing Debian's time package"
    apt-get update -qq && apt-get install -y -qq time
fi

cargo build --profile profiling -q -p sunpower-cli -p sunpower-benches --features parquet \
    --bin sunpower --bin big_capture
sunpower="$target/profiling/sunpower"
mkdir -p "$data"
kind=sample
[ "${MIXED:-0}" = 1 ] && kind=mixed
file="$data/year-$kind.pcap"
dataset="$data/year-$kind-dataset"
intervals="$data/year-$kind-intervals.parquet"
cleanup() {
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$file" "$dataset" "$intervals"; fi
}
trap cleanup EXIT

# big_capture takes megabytes and writes whole days: the size of DAYS days, less half a day.
day_bytes=$(stat -c %s examples/sample.pcap)
[ "$kind" = mixed ] && day_bytes=$((day_bytes + 16 * 1000 * 1000))
mb=$(((days * day_bytes - day_bytes / 2) / 1000000))
needed_mb=$((mb + mb / 5 + 100))
free_mb=$(df -Pm "$data" | awk 'NR == 2 { print $4 }')
if [ "$free_mb" -lt "$needed_mb" ]; then
    echo "need about $needed_mb MB free in $data, have $free_mb MB" >&2
    exit 1
fi
if [ "$kind" = mixed ]; then
    log=$("$target/profiling/big_capture" --mixed "$file" "$mb" 2>&1)
else
    log=$("$target/profiling/big_capture" "$file" "$mb" 2>&1)
fi
echo "$log"
[[ "$log" == *", $days days,"* ]] || {
    echo "expected $days days (the day's size changed?)" >&2
    exit 1
}
bytes=$(stat -c %s "$file")

# Runs a command under /usr/bin/time -v; sets wall (seconds) and rss (KiB).
run() {
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log"; rm -f "$log"; return 1; }
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk '{
        n = split($0, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
    rm -f "$log"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

records=$("$sunpower" stats "$file" | sed -n 's/.*"records":\([0-9]*\).*/\1/p')
declare -a stats_w decode_w intervals_w
decode_rss=0
intervals_rss=0
stats_rss=0
for round in $(seq "$rounds"); do
    run "$sunpower" stats "$file"
    stats_w+=("$wall")
    [ "$rss" -gt "$stats_rss" ] && stats_rss=$rss
    rm -rf "$dataset"
    run "$sunpower" decode "$file" --format parquet --output "$dataset"
    decode_w+=("$wall")
    [ "$rss" -gt "$decode_rss" ] && decode_rss=$rss
    rm -f "$intervals"
    run "$sunpower" intervals "$file" --tz America/Los_Angeles --format parquet --output "$intervals"
    intervals_w+=("$wall")
    [ "$rss" -gt "$intervals_rss" ] && intervals_rss=$rss
    echo "round $round: stats ${stats_w[-1]} s, decode parquet ${decode_w[-1]} s, intervals parquet ${intervals_w[-1]} s"
done
s=$(printf '%s\n' "${stats_w[@]}" | median)
d=$(printf '%s\n' "${decode_w[@]}" | median)
i=$(printf '%s\n' "${intervals_w[@]}" | median)
dataset_bytes=$(du -sb "$dataset" | cut -f1)
parts=$(find "$dataset" -name '*.parquet' | wc -l)
intervals_bytes=$(stat -c %s "$intervals")

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(date -u +%Y-%m-%dT%H:%MZ)"
awk -v days="$days" -v kind="$kind" -v bytes="$bytes" -v records="$records" -v s="$s" -v d="$d" \
    -v i="$i" -v srss="$stats_rss" -v drss="$decode_rss" -v irss="$intervals_rss" \
    -v dbytes="$dataset_bytes" -v parts="$parts" -v ibytes="$intervals_bytes" -v rounds="$rounds" 'BEGIN {
    printf "year (%d days, %s): %d bytes, %d records; medians of %d rounds\n", days, kind, bytes, records, rounds
    printf "stats               %6.2f s  %8.0f records/s  peak RSS %5.1f MiB\n", s, records / s, srss / 1024
    printf "decode --parquet    %6.2f s  %8.0f records/s  peak RSS %5.1f MiB  dataset %.1f MB in %d files (%.1f bytes/record)\n", d, records / d, drss / 1024, dbytes / 1e6, parts, dbytes / records
    printf "intervals --parquet %6.2f s                     peak RSS %5.1f MiB  file %.2f MB\n", i, irss / 1024, ibytes / 1e6
    printf "ratio decode --format parquet / stats: x%.2f of the time; intervals / stats: x%.2f\n", d / s, i / s
}'
