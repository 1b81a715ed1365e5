#!/usr/bin/env bash
# Rebuilds the seed inputs in fuzz/corpus/: generated ones (examples/make_seeds.rs), the
# DeviceList fixtures, and the third-party captures under 64 KiB. Run `cargo fuzz cmin` after.
set -euo pipefail
cd "$(dirname "$0")"
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/seeds} cargo run --quiet --example make_seeds
mkdir -p corpus/devicelist corpus/capture_reader
cp ../sunpower-proto/tests/data/devicelist/*.json corpus/devicelist/
third_party=${THIRD_PARTY_CAPTURES:-../../shared/captures/third_party}
if [ -d "$third_party" ]; then
    find "$third_party" -type f -size -64k ! -path '*/LICENSES/*' ! -name SOURCES.txt -print0 |
        while IFS= read -r -d '' f; do
            rel=${f#"$third_party"/}
            cp "$f" "corpus/capture_reader/third_party-${rel//\//-}"
        done
fi
