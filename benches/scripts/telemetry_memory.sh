#!/usr/bin/env bash
# Peak memory (maximum resident set size, /usr/bin/time -v) of `sunpower intervals` on a long
# telemetry stream (issue 25, item 8): FRAMES frames one a second (default 3,000,000, 35 days)
# with production, net, battery and state of charge, from a file and live from standard input.
# Prints each figure with its command and the production total, which must be the counters'
# difference (FRAMES - 1) x 0.5 Wh whatever the memory; nothing is kept.
#
#   benches/scripts/telemetry_memory.sh            # release build
#   PROFILE=debug FRAMES=1000000 benches/scripts/telemetry_memory.sh
#   BASELINE=/tmp/sunpower-main benches/scripts/telemetry_memory.sh   # and another build's
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/), PROFILE, FRAMES, BASELINE
# (a `sunpower` binary, e.g. main's, measured on the same stream, with this one's ratio to it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
profile="${PROFILE:-release}"
frames="${FRAMES:-3000000}"
if [ ! -x /usr/bin/time ]; then
    apt-get update -qq && apt-get install -y -qq time
fi
if [ "$profile" = release ]; then
    cargo build --release -q -p sunpower-cli
else
    cargo build -q -p sunpower-cli
fi
sunpower="$target/$profile/sunpower"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 0.5 Wh of production and -0.25 Wh of net a second, the battery's counter wandering.
awk -v n="$frames" 'BEGIN {
    for (s = 0; s < n; s++) {
        printf "{\"notification\":\"power\",\"params\":{\"time\":%d,\"pv_p\":\"1.8\",\"pv_en\":\"%.6f\",\"net_p\":\"-0.9\",\"net_en\":\"%.6f\",\"ess_p\":\"0.1\",\"ess_en\":\"%.6f\",\"soc\":\"0.5\"}}\n",
            1759428000 + s, 1000 + s * 0.0005, 2000 - s * 0.00025, -50 + (s % 7) * 0.0001
    }
}' >"$work/telemetry.jsonl"
printf '%s frames, %s MB\n' "$frames" "$(( $(stat -c %s "$work/telemetry.jsonl") / 1000000 ))"

# peak LABEL BINARY INPUT: prints the figures; sets $rss (kB) and $production.
peak() {
    local label="$1" binary="$2" input="$3"
    local log="$work/time.log" out="$work/out.csv" status=0
    /usr/bin/time -v "$binary" intervals --tz UTC --telemetry "$input" <"$work/telemetry.jsonl" \
        >"$out" 2>"$log" || status=$?
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    # Live output holds revisions: the last row of each interval counts.
    production=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "production_wh") c = i; next }
        { last[$1] = $c } END { for (k in last) t += last[k]; printf "%.3f", t }' "$out")
    printf '%-44s %8.1f MiB  exit %s  production %s Wh  (sunpower intervals --telemetry %s)\n' \
        "$label" "$(awk "BEGIN { print $rss / 1024 }")" "$status" "$production" "$input"
}

printf 'expected production (FRAMES - 1) x 0.5 Wh = %s Wh\n' "$(awk -v n="$frames" 'BEGIN { printf "%.3f", (n - 1) * 0.5 }')"
for mode in file live; do
    if [ "$mode" = file ]; then input="$work/telemetry.jsonl"; else input=-; fi
    peak "intervals, telemetry $mode" "$sunpower" "$input"
    if [ -n "${BASELINE:-}" ]; then
        this=$rss
        peak "intervals, telemetry $mode (BASELINE)" "$BASELINE" "$input"
        printf '%-44s %8.2f x BASELINE\n' "" "$(awk "BEGIN { print $this / $rss }")"
    fi
done
