#!/usr/bin/env bash
# Serving benchmark (issue 12): throughput and latency of `peft4j serve` under `peft4j loadtest`
# with 1, 4, 16 and 64 LoRA adapters, mixed-adapter batches against one pass per adapter (PEFT's
# way) and one request at a time, a single merged adapter as the ceiling, and a 2x saturation run
# that may only answer 503. Same machine, server and client together.
#
#   tools/serve_bench.sh PEFT4J ADAPTER_DIR MODEL OUT_DIR [REQUESTS]
#
# PEFT4J: the launcher (./peft4j, or a wrapper around the jar); ADAPTER_DIR: one LoRA adapter trained
# on MODEL, copied 64 times under new names (throughput does not depend on the weights); OUT_DIR:
# per-run JSON and results.md.
set -euo pipefail
P=$1; ADAPTER=$2; MODEL=$3; OUT=$4; REQUESTS=${5:-600}
mkdir -p "$OUT/adapters"
for i in $(seq 0 63); do
  [ -d "$OUT/adapters/t$i" ] || { mkdir -p "$OUT/adapters/t$i"; cp "$ADAPTER"/adapter_config.json "$ADAPTER"/adapter_model.safetensors "$OUT/adapters/t$i/"; [ -f "$ADAPTER/labels.json" ] && cp "$ADAPTER/labels.json" "$OUT/adapters/t$i/"; }
done
[ -d "$OUT/merged" ] || "$P" merge-and-unload --model "$MODEL" --adapter "$ADAPTER" --out "$OUT/merged" >/dev/null 2>&1

names() { local n=$1 s=""; for i in $(seq 0 $((n - 1))); do s="$s${s:+,}t$i"; done; echo "$s"; }

# run NAME LOADTEST_ADAPTERS CONCURRENCY SERVE_ARGS...: one fresh server, a warm-up, then the measured run
run() {
  local name=$1 adapters=$2 conc=$3; shift 3
  "$P" serve --port 0 "$@" > "$OUT/$name.serve.out" 2> "$OUT/$name.serve.err" &
  local pid=$!
  for _ in $(seq 1 120); do grep -q listening "$OUT/$name.serve.out" 2>/dev/null && break; sleep 1; done
  local url; url=$(grep -o 'http://[0-9.:]*' "$OUT/$name.serve.out")
  "$P" loadtest --url "$url" --adapters "$adapters" --concurrency "$conc" --requests 200 --out "$OUT/$name.warmup.json" --overwrite >/dev/null 2>&1
  "$P" loadtest --url "$url" --adapters "$adapters" --concurrency "$conc" --requests "$REQUESTS" --out "$OUT/$name.json" --overwrite 2>/dev/null | grep '^| [0-9]'
  curl -s "$url/metrics" | awk '/^peft4j_resident_memory_bytes /{printf "%.0f\n", $2/1048576}' > "$OUT/$name.rss_mb"
  kill -TERM "$pid"; wait "$pid" || true
}

pin=(--adapter "t0=$OUT/adapters/t0" --adapter-dir "$OUT/adapters")
run merged base 32 --model "$OUT/merged"
for n in 1 4 16 64; do
  run mixed-$n "$(names $n)" 32 --model "$MODEL" "${pin[@]}"
  run per-adapter-$n "$(names $n)" 32 --model "$MODEL" "${pin[@]}" --batching per-adapter
done
run one-at-a-time-4 "$(names 4)" 32 --model "$MODEL" "${pin[@]}" --max-batch 1
run one-at-a-time-64 "$(names 64)" 32 --model "$MODEL" "${pin[@]}" --max-batch 1
# 2x saturation: twice as many clients as the queue and a batch hold
run saturation-4 "$(names 4)" 128 --model "$MODEL" "${pin[@]}" --queue 32 --max-batch 32

python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
merged = json.load(open(f"{out}/merged.json"))["throughput_rps"]
rows = ["| run | adapters | throughput (req/s) | vs merged | p50 ms | p95 ms | p99 ms | errors | peak RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
for name in ["merged"] + [f"{k}-{n}" for n in (1, 4, 16, 64) for k in ("mixed", "per-adapter")] + ["one-at-a-time-4", "one-at-a-time-64", "saturation-4"]:
    if not os.path.exists(f"{out}/{name}.json"):
        continue
    r = json.load(open(f"{out}/{name}.json")); l = r["latency_ms"]
    rss = open(f"{out}/{name}.rss_mb").read().strip()
    rows.append(f"| {name} | {r['adapters']} | {r['throughput_rps']:.1f} | {r['throughput_rps'] / merged:.2f} | {l['p50']:.0f} | {l['p95']:.0f} | {l['p99']:.0f} | {r['errors_by_status'] or '-'} | {rss} |")
open(f"{out}/results.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
