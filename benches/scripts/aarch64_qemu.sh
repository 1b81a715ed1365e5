#!/usr/bin/env bash
# A Raspberry Pi is 64-bit ARM: cross-builds the test suites of sunpower-proto, sunpower-pcap and
# sunpower-store for aarch64-unknown-linux-gnu and runs them under qemu-aarch64 (user-mode emulation), so
# anything that depends on the CPU (endianness is the same, but alignment, char signedness and
# float formatting paths differ) is exercised. Installs what it needs: the Rust target (rustup),
# Debian's gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (apt).
#
#   benches/scripts/aarch64_qemu.sh [extra cargo test arguments]
#
# When the target or the packages cannot be installed (no network, no rustup, no apt), says so
# and exits 0: this is a check for machines that can, not a requirement.
# Environment: CARGO_TARGET_DIR (default: the workspace's target/).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target=aarch64-unknown-linux-gnu

skip() {
    echo "aarch64: skipped: $*"
    exit 0
}

command -v rustup >/dev/null || skip "rustup is not installed"
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" || skip "rustup target add $target failed"
fi

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
[ -d /usr/aarch64-linux-gnu/lib ] || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || skip "apt-get missing; install ${need[*]} by hand"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"; } ||
        skip "apt-get install ${need[*]} failed"
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc

echo "aarch64: $(aarch64-linux-gnu-gcc --version | head -1); $(qemu-aarch64 --version | head -1)"
# Doctests are skipped: rustdoc cross-runs them only with the unstable -Zdoctest-xcompile.
cargo test --target "$target" -p sunpower-proto -p sunpower-pcap -p sunpower-store --all-features \
    --lib --bins --tests --examples "$@"
status=$?
if [ $status -eq 0 ]; then
    echo "aarch64: sunpower-proto, sunpower-pcap and sunpower-store test suites passed under qemu-aarch64"
else
    echo "aarch64: FAILED (cargo test exit status $status)"
fi
exit $status
