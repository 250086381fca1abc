#!/bin/sh
# peft4j against PyTorch eager on the same workload, machine, run and thread count: prints both JSON lines
# and one line of ratios (time: peft4j / PyTorch, memory: peft4j / PyTorch peak resident).
# Needs Debian's python3-torch and libopenblas0-pthread (apt-get install); Python never runs in CI.
# Usage: tools/bench_vs_torch.sh [PRESET] [MODE: infer|lora|full] [BATCH] [STEPS]
# e.g.   tools/bench_vs_torch.sh vit-ti16-224 lora 32 5
set -e
preset="${1:-vit-ti16-224}"; mode="${2:-lora}"; batch="${3:-32}"; steps="${4:-5}"
threads="${PEFT4J_THREADS:-$(nproc)}"
cd "$(dirname "$0")/.."
case "$mode" in
  infer) ours="--mode infer" ;;
  lora) ours="--mode train --method lora --rank 8 --target qkv" ;;
  full) ours="--mode train --method full" ;;
  *) echo "mode must be infer, lora or full" >&2; exit 2 ;;
esac
p=$(PEFT4J_THREADS="$threads" ./peft4j bench --preset "$preset" $ours --batch-size "$batch" --steps "$steps" 2>/dev/null | tail -1)
t=$(/usr/bin/python3 tools/torch_vit_bench.py --preset "$preset" --mode "$mode" --batch-size "$batch" --steps "$steps" --threads "$threads" | tail -1)
echo "$p"
echo "$t"
/usr/bin/python3 - "$p" "$t" <<'PY'
import json, sys
p, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"preset": p["preset"], "mode": t["mode"], "batch_size": p["batch_size"],
                  "time_ratio": p["median_s"] / t["median_s"], "memory_ratio": p["peak_rss_mb"] / t["peak_rss_mb"],
                  "peft4j_median_s": p["median_s"], "pytorch_median_s": t["median_s"],
                  "peft4j_peak_rss_mb": p["peak_rss_mb"], "pytorch_peak_rss_mb": t["peak_rss_mb"]}))
PY
