#!/usr/bin/env bash
# Peak memory (maximum resident set size, /usr/bin/time -v) of `sunpower vars` and of Python's
# `sunpower.parse_vars` on the hostile `/vars` documents of issue 25 (item 9): one 30 MiB number,
# one 30 MiB serial, one 30 MiB key (the issue's 60 MiB ones are over today's 32 MiB limit), a
# 32 MiB document of tiny entries (at the limit), and, for Python, a 70 MiB document over the
# limit (refused before it is copied). The target is 72 MiB
# for a document at its cap. Each figure is printed with what produced it; nothing is kept.
#
#   benches/scripts/vars_memory.sh [SUNPOWER_BINARY]
#
# Environment: CARGO_TARGET_DIR (default: the workspace's target/); PYTHON, a Python with the
# `sunpower` wheel installed (default: no Python figures).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ ! -x /usr/bin/time ]; then
    apt-get update -qq && apt-get install -y -qq time
fi
sunpower="${1:-}"
if [ -z "$sunpower" ]; then
    cargo build --release -q -p sunpower-cli
    sunpower="$target/release/sunpower"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
mib = 1024 * 1024
big = 30 * mib
with open(f"{work}/number.json", "w") as f:
    f.write('{"/sys/livedata/pv_en": 0.' + "1" * big + "}")
with open(f"{work}/serial.json", "w") as f:
    f.write('{"/sys/devices/inverter/0/sn": "' + "S" * big + '"}')
with open(f"{work}/key.json", "w") as f:
    f.write('{"/sys/' + "k" * big + '": "1"}')
# Tiny entries up to the limit exactly (32 MiB), padded with blanks.
parts, size, i = [], 2, 0
while True:
    entry = f'"/sys/devices/inverter/{i % 10000}/x{i}":"1"'
    if size + len(entry) + 1 > 32 * mib:
        break
    parts.append(entry)
    size += len(entry) + 1
    i += 1
with open(f"{work}/tiny.json", "w") as f:
    body = "{" + ",".join(parts)
    f.write(body + " " * (32 * mib - len(body) - 1) + "}")
with open(f"{work}/over.json", "w") as f:
    f.write('{"/sys/x": "' + "x" * (70 * mib) + '"}')
PY

rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }

for doc in number serial key tiny; do
    size=$(stat -c %s "$work/$doc.json")
    status=0
    /usr/bin/time -v "$sunpower" vars "$work/$doc.json" >/dev/null 2>"$work/log" || status=$?
    printf 'cli     %-7s %9d bytes  %7s MiB  exit %s   (sunpower vars FILE)\n' "$doc" "$size" \
        "$(mib "$(rss "$work/log")")" "$status"
done

if [ -n "${PYTHON:-}" ]; then
    for doc in number serial key tiny over; do
        for as in bytes str; do
            size=$(stat -c %s "$work/$doc.json")
            /usr/bin/time -v "$PYTHON" -c "
import sys, sunpower
mode = 'rb' if sys.argv[2] == 'bytes' else 'r'
with open(sys.argv[1], mode) as f:
    data = f.read()
try:
    sunpower.parse_vars(data)
except ValueError:
    pass
" "$work/$doc.json" "$as" 2>"$work/log" >/dev/null
            # The input itself, for comparison: what reading the file costs Python alone.
            /usr/bin/time -v "$PYTHON" -c "
import sys
with open(sys.argv[1], 'rb' if sys.argv[2] == 'bytes' else 'r') as f:
    data = f.read()
" "$work/$doc.json" "$as" 2>"$work/log0" >/dev/null
            printf 'python  %-7s %-5s %9d bytes  %7s MiB  (reading the input alone: %s MiB)\n' \
                "$doc" "$as" "$size" "$(mib "$(rss "$work/log")")" "$(mib "$(rss "$work/log0")")"
        done
    done
fi
