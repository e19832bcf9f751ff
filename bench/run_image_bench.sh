#!/usr/bin/env bash
# Image preparation per core, groundcap vs Python PIL, side by side in one run.
#
#   bench/run_image_bench.sh [rounds=3] [reps=5]
#
# Builds nothing: expects image_bench in BUILD_DIR (default build/). Generates
# the two test JPEGs once, then for each round runs every case in both tools,
# alternating which goes first, each case in its own process (peak RSS is per
# case), pinned to CPU 0 when taskset exists. Img/s is the median over all
# repetitions of all rounds; peak RSS is the largest seen. PIL is Debian's
# python3-pil under /usr/bin/python3 (override with PYTHON).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${BUILD_DIR:-$root/build}"
bench="$build/image_bench"
python="${PYTHON:-/usr/bin/python3}"
rounds="${1:-3}"
reps="${2:-5}"

[[ -x "$bench" ]] || { echo "no $bench: build the image_bench target first" >&2; exit 1; }
"$python" -c 'import PIL' 2>/dev/null || { echo "$python has no PIL (apt install python3-pil)" >&2; exit 1; }

pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/image_bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$bench" --generate "$work" >&2

results="$work/results.txt"
: >"$results"
for ((r = 1; r <= rounds; r++)); do
  for c in 12mp 1mp; do
    gc=("${pin[@]}" "$bench" --case "$work/$c.jpg" --reps "$reps")
    pil=("${pin[@]}" "$python" "$here/pil_prep.py" --case "$work/$c.jpg" --reps "$reps")
    if ((r % 2)); then order=(gc pil); else order=(pil gc); fi
    for who in "${order[@]}"; do
      if [[ $who == gc ]]; then "${gc[@]}"; else "${pil[@]}"; fi | tee -a "$results" >&2
    done
  done
done

echo "# $(date -u +%Y-%m-%dT%H:%MZ)  nproc=$(nproc)  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')  pinned=${pin[*]:-no}  load=$(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$results" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    who, *fields = line.split()
    kv = dict(f.split("=", 1) for f in fields)
    r = rows.setdefault((kv["case"], who), {"rates": [], "rss": 0, "base": 0, "kv": kv})
    r["rates"] += [float(x) for x in kv["all"].split(",")]
    r["rss"] = max(r["rss"], int(kv["peak_rss_kib"]))
    r["base"] = max(r["base"], int(kv["baseline_rss_kib"]))
print("| case | source -> sent | groundcap img/s | PIL img/s | ratio | groundcap peak RSS MiB (baseline) | PIL peak RSS MiB (baseline) |")
print("|---|---|---:|---:|---:|---:|---:|")
for case in ("12mp.jpg", "1mp.jpg"):
    g, p = rows.get((case, "groundcap")), rows.get((case, "pil"))
    if not g or not p:
        continue
    gm, pm = statistics.median(g["rates"]), statistics.median(p["rates"])
    kv = g["kv"]
    print(f"| {case} | {kv['src']} -> {kv['sent']} | {gm:.1f} | {pm:.1f} | {gm / pm:.2f}x | "
          f"{g['rss'] / 1024:.0f} ({g['base'] / 1024:.0f}) | {p['rss'] / 1024:.0f} ({p['base'] / 1024:.0f}) |")
print(f"\n{len(g['rates'])} timed repetitions per cell; PIL filter: {p['kv'].get('filter')}")
EOF
