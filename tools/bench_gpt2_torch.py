#!/usr/bin/python3
"""PyTorch eager reference for `peft4j bench --text gpt2-small --mode infer`: the same GPT-2-small
forward (random weights, batch × seq tokens, logits through the tied embedding) in Debian's
python3-torch, with tools/text_reference.py's model, under torch.no_grad(). Prints one JSON line:
median/min step time, peak resident memory (VmHWM) and the GEMM rate of this torch, for memory
comparison (Debian's torch runs on a slower BLAS, so its time is no yardstick).

Usage: /usr/bin/python3 tools/bench_gpt2_torch.py [--batch 8] [--seq 128] [--steps 3] [--warmup 2] [--threads 2]
"""

import argparse
import json
import os
import sys
import time

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from text_reference import Gpt2Config, Gpt2LMHeadModel  # noqa: E402


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    p = argparse.ArgumentParser()
    for k, v in dict(batch=8, seq=128, steps=3, warmup=2, threads=2).items():
        p.add_argument("--" + k, type=int, default=v)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = Gpt2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, layer_norm_epsilon=1e-5)
    model = Gpt2LMHeadModel(cfg).eval()
    for prm in model.parameters():
        prm.requires_grad_(False)
        torch.nn.init.normal_(prm, std=0.02)
    ids = torch.randint(0, cfg.vocab_size, (a.batch, a.seq))
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            model(ids).sum().item()
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
        m, k, n = a.batch * a.seq, 768, 3072
        x, w = torch.randn(m, k), torch.randn(k, n)
        best = min(_timed(lambda: x @ w) for _ in range(5))
    times.sort()
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "batch": a.batch, "seq": a.seq,
                      "median_s": times[len(times) // 2], "min_s": times[0], "peak_rss_mb": peak_rss_mb(),
                      "gemm_gflop_per_s": 2.0 * m * k * n / 1e9 / best}))


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
