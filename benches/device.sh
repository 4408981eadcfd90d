#!/usr/bin/env bash
# The benchmark for a machine with a hardware GPU, as one run: the sampler table of
# `rso bench` from 1k to 1M prompts x 64 candidates (CPU on one and all threads, GPU whole
# calls and kernel path, GPU indices against the CPU's), then a whole `rso sample` run on
# the GPU with --cross-check over a synthetic dump. Everything goes to OUT_DIR.
#
#   bash benches/device.sh [RSO_BINARY] [OUT_DIR]
#
# RSO_BINARY defaults to target/release/rso (built here if missing); OUT_DIR to $OUT or
# /tmp/rso-device. RSO_BENCH_PROMPTS and RSO_DUMP_PROMPTS shrink the run for a try-out. A Vulkan loader carried as .deb files in .gl/ is unpacked first when
# the machine has none (see the device notes of the project's tool library).
set -uo pipefail
cd "$(dirname "$0")/.."
rso=${1:-target/release/rso}
out=${2:-${OUT:-/tmp/rso-device}}
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" WGPU_DEBUG=0

if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
    export VK_DRIVER_FILES="$nvidia_icd"
fi
[ -x "$rso" ] || cargo build --release -q

{
    date -u
    uname -a
    nproc
    nvidia-smi -L 2>&1 || true
    "$rso" --version
} >"$out/machine.txt" 2>&1
cat "$out/machine.txt"

# The sampler: 1M x 64 (the headline), with smaller batches for the trend.
"$rso" bench --prompts "${RSO_BENCH_PROMPTS:-1000,10000,100000,1000000}" --candidates 64 --repeats 3 2>&1 |
    tee "$out/bench.md"

# A whole `rso sample` run on the GPU, checked against the CPU on every batch.
dump=${TMPDIR:-/tmp}/rso-device-dump.jsonl
"$rso" bench --write-dump "$dump" --prompts "${RSO_DUMP_PROMPTS:-200000}" --candidates 64
{ time "$rso" sample "$dump" --backend gpu --cross-check -o /dev/null; } 2>&1 | tee "$out/sample.txt"
rm -f "$dump"
