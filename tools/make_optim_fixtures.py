#!/usr/bin/python3
"""Generates the AdamW golden fixture under core/src/test/resources/fixtures/optim/.

The reference is torch.optim.AdamW with two parameter groups (decayed / not decayed) and
torch.nn.utils.clip_grad_norm_ before every step, driven by fixed random gradients and the
learning rate of peft4j's LearningRateSchedule (linear warm-up, then cosine to a floor), computed
here with the same formula. Deterministic: fixed seed, one thread, so reruns give identical bytes.

Usage: /usr/bin/python3 tools/make_optim_fixtures.py [OUTPUT_DIR]
"""

import math
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import write_safetensors

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources",
                           "fixtures", "optim")

# Mirrored as constants in AdamWGoldenTest: change both together.
SHAPES = {"weight": (4, 3), "bias": (4,), "norm.weight": (4,)}
DECAYED = {"weight"}
STEPS = 6
LARGE_GRADIENT_STEP = 3  # its gradient is scaled up so that clipping triggers
PEAK_LR = 0.05
WARMUP_STEPS = 2
TOTAL_STEPS = STEPS
MIN_LR = 0.001
WEIGHT_DECAY = 0.1
BETAS = (0.9, 0.999)
EPS = 1e-8
MAX_GRAD_NORM = 1.0


def learning_rate(step):
    """LearningRateSchedule.at(step): step is 0-based; warm-up reaches the peak on its last step."""
    if step < WARMUP_STEPS:
        return PEAK_LR * (step + 1) / WARMUP_STEPS
    decay_steps = max(1, TOTAL_STEPS - WARMUP_STEPS)
    progress = min(1.0, (step - WARMUP_STEPS) / decay_steps)
    return MIN_LR + (PEAK_LR - MIN_LR) * 0.5 * (1 + math.cos(math.pi * progress))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    params = {name: torch.nn.Parameter(torch.randn(shape, generator=generator)) for name, shape in SHAPES.items()}
    grads = []
    for step in range(STEPS):
        scale = 5.0 if step == LARGE_GRADIENT_STEP else 0.1
        grads.append({name: scale * torch.randn(shape, generator=generator) for name, shape in SHAPES.items()})

    tensors = {f"init.{name}": p.detach().clone() for name, p in params.items()}
    optimizer = torch.optim.AdamW(
        [{"params": [params[n] for n in SHAPES if n in DECAYED], "weight_decay": WEIGHT_DECAY},
         {"params": [params[n] for n in SHAPES if n not in DECAYED], "weight_decay": 0.0}],
        lr=PEAK_LR, betas=BETAS, eps=EPS, foreach=False)
    lrs = []
    norms = []
    clipped = []
    for step in range(STEPS):
        for name, p in params.items():
            p.grad = grads[step][name].clone()
            tensors[f"grad.{step}.{name}"] = grads[step][name]
        norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=MAX_GRAD_NORM))
        lr = learning_rate(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        lrs.append(lr)
        norms.append(norm)
        clipped.append(norm > MAX_GRAD_NORM)
        for name, p in params.items():
            tensors[f"param.{step}.{name}"] = p.detach().clone()
    if sum(clipped) != 1 or not clipped[LARGE_GRADIENT_STEP]:
        raise SystemExit(f"expected clipping at step {LARGE_GRADIENT_STEP} only, got norms {norms}")
    tensors["lr"] = torch.tensor(lrs, dtype=torch.float32)
    tensors["grad_norm"] = torch.tensor(norms, dtype=torch.float32)

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "adamw.safetensors")
    write_safetensors(path, tensors)
    print(f"wrote {path}: {len(tensors)} tensors")
    print("lr        ", " ".join(f"{x:.6f}" for x in lrs))
    print("grad norm ", " ".join(f"{x:.4f}" for x in norms))


if __name__ == "__main__":
    main()
