#!/bin/sh
# Native-memory soak: STEPS training steps (default 2000) of a small ViT with LoRA through `peft4j bench`,
# which records its resident memory after every STEPS/20 steps. Prints the curve ({step, MB} pairs) and the
# growth after warm-up (the first quarter of the steps: JIT, heap sizing, allocator pools) as JSON.
# Target: growth < 50 MB. Usage: tools/soak.sh [STEPS] [PRESET]
set -e
steps="${1:-2000}"
preset="${2:-vit-tiny-test}"
cd "$(dirname "$0")/.."
./peft4j bench --preset "$preset" --mode train --method lora --batch-size 32 --steps "$steps" 2>/dev/null | tail -1 |
  /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
curve = d["rss_mb_by_step"]
after = [mb for step, mb in curve if step >= d["steps"] // 4]
print(json.dumps({"preset": d["preset"], "steps": d["steps"], "median_s": d["median_s"], "peak_rss_mb": d["peak_rss_mb"],
                  "rss_after_warmup_mb": after[0], "rss_end_mb": after[-1], "growth_after_warmup_mb": max(after) - after[0],
                  "rss_mb_by_step": curve}))'
