#!/usr/bin/env bash
# Peak memory (maximum resident set size, /usr/bin/time -v) of every command on the hostile inputs
# of issue 12: 2 GB of NUL bytes (`/dev/zero` cut at 2 GB: one endless line, not a capture, not
# JSON), 1 M connections of one SYN and 5 bytes (the many_connections example; PENDING=1 adds
# pending bodies), a 32 MiB DeviceList of tiny values (the document limit, well over the
# 10,000-device limit), and a tree whose day file is one 100 MB line (issue 25, item 9).
# Each figure is printed with the command that produced it; nothing is kept.
#
#   benches/scripts/hostile_memory.sh
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ ! -x /usr/bin/time ]; then
    apt-get update -qq && apt-get install -y -qq time
fi
cargo build --release -q -p sunpower-cli
cargo build --release -q -p sunpower-testkit --example many_connections
sunpower="$target/release/sunpower"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# peak LABEL INPUT-COMMAND -- SUNPOWER-ARGS...: INPUT-COMMAND's output on the command's stdin.
peak() {
    local label="$1" input="$2"
    shift 2
    local log="$work/time.log" status=0
    bash -c "$input" | /usr/bin/time -v "$sunpower" "$@" >/dev/null 2>"$log" || status=$?
    local rss
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    printf '%-44s %8.1f MiB  exit %s   (%s | sunpower %s)\n' "$label" "$(awk "BEGIN { print $rss / 1024 }")" \
        "$status" "$input" "$*"
}

zero="head -c 2000000000 /dev/zero"
peak "parse, 2 GB of NUL" "$zero" parse -
peak "stats --body, 2 GB of NUL" "$zero" stats --body -
peak "intervals --body, 2 GB of NUL" "$zero" intervals --tz UTC --body -
peak "intervals --devicelist, 2 GB of NUL" "$zero" intervals --tz UTC --devicelist -
peak "devicelist, 2 GB of NUL" "$zero" devicelist -
peak "vars, 2 GB of NUL" "$zero" vars -
peak "telemetry, 2 GB of NUL" "$zero" telemetry -
peak "intervals --telemetry, 2 GB of NUL" "$zero" intervals --tz UTC --telemetry -
peak "decode, 2 GB of NUL" "$zero" decode -
peak "stats, 2 GB of NUL" "$zero" stats -

"$target/release/examples/many_connections" "$work/conns.pcap" 1000000
peak "stats, 1 M connections" "cat $work/conns.pcap" stats -
peak "decode, 1 M connections" "cat $work/conns.pcap" decode -
peak "intervals, 1 M connections" "cat $work/conns.pcap" intervals --tz UTC -
"$target/release/examples/many_connections" "$work/pending.pcap" 1000000 --pending-bodies
peak "stats, 1 M connections with pending bodies" "cat $work/pending.pcap" stats -
rm -f "$work"/*.pcap

# 32 MiB of `{"DEVICE_TYPE":"Inverter"},...`: far more than 10,000 devices.
python3 - "$work/devices.json" <<'PY'
import sys
item = b'{"DEVICE_TYPE":"Inverter","SERIAL":"x"},'
n = (32 * 1024 * 1024 - 40) // len(item)
with open(sys.argv[1], "wb") as f:
    f.write(b'{"devices":[' + item * (n - 1) + item[:-1] + b'],"result":"succeed"}')
PY
peak "devicelist, 32 MiB of tiny devices" "cat $work/devices.json" devicelist -
peak "intervals --devicelist, 32 MiB of tiny devices" "cat $work/devices.json" intervals --tz UTC --devicelist -
# The same size of /vars entries: far more than its device limit.
python3 - "$work/vars.json" <<'PY'
import sys
n = (32 * 1024 * 1024) // 40
with open(sys.argv[1], "w") as f:
    f.write("{" + ",".join(f'"/sys/devices/inverter/{i}/sn":"x"' for i in range(n)) + "}")
PY
peak "vars, 32 MiB of tiny devices" "cat $work/vars.json" vars -

# A day's file of a tree that is one 100 MB line: read no further than the tree's file limit.
mkdir -p "$work/tree/2026/06"
head -c 100000000 /dev/zero | tr '\0' 'x' >"$work/tree/2026/06/01.csv"
printf '130\t20260601170000\tINV1\tM\t\t100.000\t0.3\n130\t20260601170500\tINV1\tM\t\t100.025\t0.3\n' >"$work/body.txt"
peak "intervals --tree, a 100 MB line in a day file" "cat $work/body.txt" intervals --tz UTC --body - --tree "$work/tree"
