#!/usr/bin/env bash
# Runs the whole test suite, GPU tests included, on any Linux machine: installs Mesa's
# software Vulkan driver (llvmpipe) when no Vulkan driver is present, so the GPU path
# runs for real without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"   # silences a Mesa warning
export WGPU_DEBUG="${WGPU_DEBUG:-0}"                 # old validation layers report false SPIR-V errors

have_vulkan() {
    ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' &&
        ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1
}

if ! have_vulkan; then
    echo "tests/run.sh: installing the software Vulkan driver (mesa-vulkan-drivers, libvulkan1)" >&2
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --release "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "rso tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
