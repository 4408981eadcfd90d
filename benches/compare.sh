#!/usr/bin/env bash
# Whole-run comparison of `rso sample` with the Python peers (the paper's snippet and an
# orjson + numpy vectorised version) on dumps made by gen_dump.py, plus the parse floor.
# Prints a markdown table: wall time (best of 7 runs for rso, 3 for the peers), peak RSS, and ratios measured in one run.
# A second table runs rso alone on ~100 MB and ~2 GB dumps (the text dump repeated) with 1
# and 2 threads: throughput and peak RSS, which must not grow with the dump.
# SKIP_BIG=1 leaves out the 2 GB dump (it needs 2.2 GB of disk in TMPDIR).
#
#   bash benches/compare.sh [BENCH_DIR]      (BENCH_DIR holds gen_dump.py and the peers;
#                                             default ../shared/bench; needs numpy, orjson)
set -euo pipefail
cd "$(dirname "$0")/.."
bench_dir="${1:-../shared/bench}"
work="${TMPDIR:-/tmp}/rso-compare"
mkdir -p "$work"
cargo build --release -q
rso="$PWD/target/release/rso"

python3 -c 'import numpy, orjson' 2>/dev/null || {
    echo "benches/compare.sh: the Python peers need numpy and orjson: pip install numpy orjson" >&2
    exit 1
}

best_of() { # N command...: prints "seconds maxrss_kb" of the fastest of N runs of the command
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
best = None
for _ in range(int(sys.argv.pop(1))):
    started = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - started
    best = elapsed if best is None else min(best, elapsed)
print(f"{best:.4f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

mb_of() { echo $(( $(stat -c %s "$1") / 1000000 )); }

dump() { # name, gen_dump args...
    local name=$1; shift
    [ -s "$work/$name.jsonl" ] || python3 "$bench_dir/gen_dump.py" "$@" >"$work/$name.jsonl"
    echo "$work/$name.jsonl"
}

echo "| dump | size | rso | seed snippet | numpy peer | parse floor | rso vs seed | rso vs numpy | rso / parse floor | rso peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for spec in "rewards:--prompts 10000 --candidates 64" "text:--prompts 2000 --candidates 64 --text-len 500"; do
    name=${spec%%:*}; args=${spec#*:}
    # shellcheck disable=SC2086
    file=$(dump "$name" $args)
    size=$(mb_of "$file")
    read -r t_rso rss_rso < <(best_of 7 "$rso" sample "$file" -q -o /dev/null --backend cpu)
    read -r t_seed _ < <(best_of 3 sh -c "python3 '$bench_dir/seed_baseline.py' 8 0.5 < '$file'")
    read -r t_np _ < <(best_of 3 sh -c "python3 '$bench_dir/numpy_baseline.py' 8 0.5 < '$file'")
    floor=$("$rso" bench --skip-sampler --no-gpu --repeats 3 --input "$file" | awk -F'|' '/jsonl/ {print $5}' | awk '{print $1}')
    printf "| %s (%s) | %s MB | %.3f s | %.3f s | %.3f s | %.3f s | %.1fx | %.1fx | %.2f | %d MB |\n" \
        "$name" "$args" "$size" "$t_rso" "$t_seed" "$t_np" "$floor" \
        "$(echo "$t_seed / $t_rso" | bc -l)" "$(echo "$t_np / $t_rso" | bc -l)" \
        "$(echo "$t_rso / $floor" | bc -l)" "$((rss_rso / 1024))"
done

# Memory and cores: the text dump repeated to ~100 MB and ~2 GB.
text="$work/text.jsonl"
repeat_to() { # name, megabytes: the text dump repeated, cut at a line end near that size
    local out="$work/$1.jsonl"
    if [ ! -s "$out" ]; then
        local copies=$(( $2 * 1000000 / $(stat -c %s "$text") + 1 ))
        for _ in $(seq "$copies"); do cat "$text"; done | head -c "$(( $2 * 1000000 ))" | sed '$d' >"$out"
    fi
    echo "$out"
}
sizes="100"
[ "${SKIP_BIG:-0}" = 1 ] || sizes="100 2000"
echo
echo "| dump | size | rso, 1 thread | rso, 2 threads | 2 threads / 1 | peak RSS (2 threads) |"
echo "|---|---|---|---|---|---|"
for mb in $sizes; do
    file=$(repeat_to "text-${mb}mb" "$mb")
    size=$(mb_of "$file")
    read -r t1 _ < <(best_of 7 "$rso" sample "$file" -q -o /dev/null --backend cpu --threads 1)
    read -r t2 rss2 < <(best_of 7 "$rso" sample "$file" -q -o /dev/null --backend cpu --threads 2)
    printf "| text dump repeated | %s MB | %.3f s (%.0f MB/s) | %.3f s (%.0f MB/s) | %.2fx | %d MB |\n" \
        "$size" "$t1" "$(echo "$size / $t1" | bc -l)" "$t2" "$(echo "$size / $t2" | bc -l)" \
        "$(echo "$t1 / $t2" | bc -l)" "$((rss2 / 1024))"
done
