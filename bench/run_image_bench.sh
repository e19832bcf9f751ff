#!/usr/bin/env bash
# Image preparation per core, groundcap vs Python PIL, side by side in one run.
#
#   bench/run_image_bench.sh [rounds=3] [reps=5]
#
# Builds nothing: expects image_bench in BUILD_DIR (default build/). Generates
# the two test JPEGs once, then for each round runs every case in groundcap,
# PIL with draft() (JPEG shrink-on-load, PIL's fastest path) and PIL without
# it (as Python pipelines usually call it), rotating which goes first, each
# case in its own process (peak RSS is per case), pinned to CPU 0 when
# taskset exists. Img/s is the median over all repetitions of all rounds;
# peak RSS is the largest seen. PIL is Debian's python3-pil under
# /usr/bin/python3 (override with PYTHON).
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
    order=(gc pil pil-nodraft gc pil pil-nodraft)
    for who in "${order[@]:$((r % 3)):3}"; do
      case $who in
        gc) "${gc[@]}" ;;
        pil) "${pil[@]}" ;;
        pil-nodraft) "${pil[@]}" --no-draft ;;
      esac | tee -a "$results" >&2
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
print("| case | source -> sent | groundcap img/s | PIL draft() img/s | ratio | PIL plain img/s | ratio "
      "| decode alone ms at 1/8, at the scale used (most possible vs PIL draft) "
      "| peak RSS MiB: groundcap / PIL draft / PIL plain (baselines) |")
print("|---|---|---:|---:|---:|---:|---:|---|---|")
for case in ("12mp.jpg", "1mp.jpg"):
    g, p, q = (rows.get((case, who)) for who in ("groundcap", "pil", "pil-nodraft"))
    if not g or not p or not q:
        continue
    gm, pm, qm = (statistics.median(r["rates"]) for r in (g, p, q))
    kv = g["kv"]
    floor, used = float(kv["floor_ms"]), float(kv["decode_ms"])
    rss = " / ".join(f"{r['rss'] / 1024:.0f} ({r['base'] / 1024:.0f})" for r in (g, p, q))
    print(f"| {case} | {kv['src']} -> {kv['sent']} | {gm:.1f} | {pm:.1f} | {gm / pm:.2f}x | "
          f"{qm:.1f} | {gm / qm:.2f}x | {floor:.1f} ({1000 / floor / pm:.2f}x), "
          f"1/{kv['shrink']}: {used:.1f} ({1000 / used / pm:.2f}x) | {rss} |")
print(f"\n{len(g['rates'])} timed repetitions per cell; PIL filter: {p['kv'].get('filter')}")
EOF
