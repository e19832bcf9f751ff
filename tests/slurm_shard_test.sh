#!/usr/bin/env bash
# ctest SlurmShards.ArrayJobCancelResubmitMerge: a real single-node Slurm
# cluster (scripts/slurm-single-node.sh) runs a 4-task `sbatch --array=0-3`
# job of `groundcap generate` (workflow.shard=auto) against the simulated
# teacher on loopback; one task is cancelled with scancel midway, merge
# refuses the unfinished shard, the task is resubmitted alone
# with examples/slurm/groundcap-array.sbatch (--array=2,
# workflow.shard=auto/4) and resumes, and the merged
# annotations.jsonl holds every input sample exactly once, in input order.
#
#   tests/slurm_shard_test.sh GROUNDCAP_BINARY SOURCE_DIR
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
[ $# -eq 2 ] || fail "usage: $0 GROUNDCAP_BINARY SOURCE_DIR"
gc=$1
src=$2
for b in sbatch squeue scancel sinfo slurmctld slurmd munged; do
  command -v "$b" >/dev/null || fail "$b not found: this test needs Debian's slurmctld slurmd slurm-client munge (scripts/setup.sh installs them)"
done
[ "$(id -u)" = 0 ] || fail "needs root to start slurmd (run the tests as root, as CI does)"

tmp=$(mktemp -d /tmp/groundcap-slurm-test.XXXXXX)
cluster="$tmp/cluster"
sim_pid=""
cleanup() {
  local rc=$?
  "$src/scripts/slurm-single-node.sh" stop "$cluster" || true
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  if [ $rc -eq 0 ]; then rm -rf "$tmp"; else echo "kept for inspection: $tmp" >&2; fi
}
trap cleanup EXIT

# Polls `cmd` (a string) every 0.2 s for up to $1 seconds.
wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    if eval "$*"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# 1. Input: synthetic scenes plus two exact-duplicate lines.
"$gc" synth --out "$tmp/data" --count 24 --seed 5 >/dev/null
sed -n 3p "$tmp/data/input.jsonl" >>"$tmp/data/input.jsonl"
sed -n 3p "$tmp/data/input.jsonl" >>"$tmp/data/input.jsonl"
input_lines=$(wc -l <"$tmp/data/input.jsonl")

# 2. The simulated teacher, slow enough (400 ms a reply) to cancel a task midway.
"$gc" serve-sim --port 0 --latency-ms 400 --imitate gemini >"$tmp/sim.port" 2>"$tmp/sim.log" &
sim_pid=$!
wait_for 10 '[ -s "$tmp/sim.port" ]' || fail "serve-sim did not start: $(cat "$tmp/sim.log")"
port=$(head -n 1 "$tmp/sim.port")

results="$tmp/results"
cat >"$tmp/spec.yaml" <<EOF
results_dir: "$results"
autolabel_type: image_grounding
image_grounding:
  workflow:
    steps: ["0", "1"]
    max_workers: 1
  data:
    input_jsonl: "$tmp/data/input.jsonl"
    image_root: "$tmp/data"
  vlm:
    backend: gemini
    gemini:
      api_key: "simulated"
      model: "gemini-2.5-flash"
      base_url: "http://127.0.0.1:$port"
EOF
cat >"$tmp/job.sh" <<'EOF'
#!/bin/bash
exec "$GROUNDCAP" generate -e "$SPEC" "image_grounding.workflow.shard=$SHARD"
EOF
chmod +x "$tmp/job.sh"
export GROUNDCAP="$gc" SPEC="$tmp/spec.yaml"

# 3. The cluster.
"$src/scripts/slurm-single-node.sh" start "$cluster" >/dev/null || fail "the single-node Slurm cluster did not start"
export SLURM_CONF="$cluster/slurm.conf"
mkdir -p "$tmp/logs"

# 4. The array job; task 2 is cancelled once it has recorded a sample.
job=$(SHARD=auto sbatch --parsable --array=0-3 -o "$tmp/logs/task-%a.log" "$tmp/job.sh") || fail "sbatch failed"
job=${job%%;*}
journal2="$results/shard-2-of-4/step_0_expression_extraction/.ckpt/journal.jsonl"
wait_for 60 '[ -s "$journal2" ]' || fail "task 2 never recorded a sample; logs: $(tail -n 5 "$tmp"/logs/*.log)"
scancel "${job}_2"
wait_for 90 '[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]' || fail "the array job did not end within 90 s"
for i in 0 1 3; do
  grep -q '"complete": true' "$results/shard-$i-of-4/shard.json" ||
    fail "shard $i did not complete: $(tail -n 5 "$tmp/logs/task-$i.log")"
done
grep -q '"complete": false' "$results/shard-2-of-4/shard.json" ||
  fail "task 2 finished before scancel reached it (the test needs it cancelled midway)"

# 5. Merge refuses the unfinished shard.
set +e
"$gc" merge "$results" 2>"$tmp/merge1.err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "merge over an unfinished shard exited $rc, expected 2"
grep -q "shard-2-of-4 (did not finish" "$tmp/merge1.err" || fail "merge did not name the unfinished shard: $(cat "$tmp/merge1.err")"

# 6. Resubmit task 2 alone with the example script (workflow.shard=auto/4);
# it resumes from its journal.
PATH="$(dirname "$gc"):$PATH" SHARDS=4 timeout 90 sbatch --wait --array=2 -c 1 -o "$tmp/logs/task-2-again.log" \
  "$src/examples/slurm/groundcap-array.sbatch" "$tmp/spec.yaml" >/dev/null ||
  fail "the resubmitted task failed: $(tail -n 5 "$tmp/logs/task-2-again.log")"
python3 - "$results/shard-2-of-4/run_summary.json" <<'EOF' || fail "the resubmitted task did not resume"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["steps"][0]["resumed"] >= 1, s["steps"][0]
EOF

# 7. Merge and check: every input sample once, in input order.
"$gc" merge "$results" 2>"$tmp/merge2.err" || fail "merge failed: $(cat "$tmp/merge2.err")"
python3 - "$tmp/data/input.jsonl" "$results/annotations.jsonl" "$input_lines" <<'EOF' || fail "merged output is wrong"
import json, sys
inp = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
assert len(inp) == int(sys.argv[3])
assert len(out) == len(inp), f"{len(out)} records merged, {len(inp)} input lines"
ids = [r["sample_id"] for r in out]
assert len(set(ids)) == len(ids), "a sample appears twice"
for i, (a, b) in enumerate(zip(inp, out)):
    assert (a["image_path"], a["caption"]) == (b["image_path"], b["caption"]), f"record {i} out of input order"
assert all(r["status"] in ("ok", "flagged") for r in out), [r["status"] for r in out]
print(f"merged {len(out)} records from 4 shards in input order")
EOF
echo "PASS"
