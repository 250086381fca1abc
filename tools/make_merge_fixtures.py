#!/usr/bin/python3
"""Golden results of Hugging Face PEFT's add_weighted_adapter, per layer, for peft4j's merge tests.

Usage: /usr/bin/python3 tools/make_merge_fixtures.py [OUT_DIR]

An implementation independent of peft4j, written from PEFT's documented behaviour (peft 0.20,
LoraModel.add_weighted_adapter and peft/utils/merge_utils.py): three LoRA adapters x, y, z of rank 2
on one 32x32 linear layer, with scalings s = alpha / r of 2, 0.5 and 1.5, merged with weights
w = (1, -0.5, 2) by every deterministic combination type (DARE draws random masks, which no two
implementations share). With c_i = w_i * s_i:

- cat: A' = [c_1 A_1; c_2 A_2; c_3 A_3], B' = [B_1 B_2 B_3];
- factor space (linear, ties, magnitude_prune): the function on the A's with weights
  sign(c_i) sqrt|c_i|, on the B's with sqrt|c_i|;
- svd family (svd, ties_svd, magnitude_prune_svd): the function on Delta_i = s_i B_i A_i with
  weights c_i, then the top-r singular part (r = 3 here); only the product B'A' is unique.

Writes OUT_DIR/peft-merge.safetensors (default core/src/test/resources/fixtures/merge): the inputs
x.lora_A, x.lora_B, ... and per method METHOD.lora_A / METHOD.lora_B (factor results) or
METHOD.delta (B'A', for the svd family). Deterministic: a rerun gives identical bytes.
"""

import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import write_safetensors

DIM = 32
RANK = 2
SCALINGS = [2.0, 0.5, 1.5]
WEIGHTS = [1.0, -0.5, 2.0]
DENSITY = 0.5
SVD_RANK = 3


def top_k_mask(t, density):
    """Keeps the int(density * numel) entries of largest magnitude over the whole tensor."""
    k = int(density * t.numel())
    flat = t.reshape(-1)
    mask = torch.zeros_like(flat)
    if k > 0:
        mask[flat.abs().argsort(descending=True)[:k]] = 1.0
    return t * mask.reshape(t.shape)


def elect(stacked, method):
    """1 where an entry's sign equals the elected sign (sgn+ of the total or of the sign count)."""
    sign = torch.sign(stacked)
    votes = stacked.sum(0) if method == "total" else sign.sum(0)
    elected = torch.where(votes >= 0, 1.0, -1.0)
    return (sign == elected).to(stacked.dtype)


def weighted(stacked, weights):
    return stacked * weights.reshape([-1] + [1] * (stacked.dim() - 1))


def combine(method, tensors, weights, sign="total"):
    w = torch.tensor(weights, dtype=torch.float32)
    if method in ("linear", "svd"):
        return weighted(torch.stack(tensors), w).sum(0)
    if method in ("magnitude_prune", "magnitude_prune_svd"):
        return weighted(torch.stack([top_k_mask(t, DENSITY) for t in tensors]), w).sum(0)
    if method in ("ties", "ties_svd"):
        pruned = torch.stack([top_k_mask(t, DENSITY) for t in tensors])
        mask = elect(pruned, sign)
        return (weighted(pruned, w) * mask).sum(0) / mask.sum(0).clamp(min=1.0)
    raise ValueError(method)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "core/src/test/resources/fixtures/merge"
    torch.manual_seed(2024)
    torch.set_num_threads(1)
    tensors = {}
    a_list, b_list = [], []
    for name in ("x", "y", "z"):
        a = torch.randn(RANK, DIM) * 0.3
        b = torch.randn(DIM, RANK) * 0.3
        tensors[f"{name}.lora_A"] = a
        tensors[f"{name}.lora_B"] = b
        a_list.append(a)
        b_list.append(b)
    c = [w * s for w, s in zip(WEIGHTS, SCALINGS)]

    tensors["cat.lora_A"] = torch.cat([ci * a for ci, a in zip(c, a_list)], 0)
    tensors["cat.lora_B"] = torch.cat(b_list, 1)

    wa = [(1.0 if ci >= 0 else -1.0) * abs(ci) ** 0.5 for ci in c]
    wb = [abs(ci) ** 0.5 for ci in c]
    for method, sign, label in (("linear", "total", "linear"), ("ties", "total", "ties"),
                                ("ties", "frequency", "ties-frequency"), ("magnitude_prune", "total", "magnitude_prune")):
        tensors[f"{label}.lora_A"] = combine(method, a_list, wa, sign)
        tensors[f"{label}.lora_B"] = combine(method, b_list, wb, sign)

    deltas = [s * (b @ a) for s, a, b in zip(SCALINGS, a_list, b_list)]
    for method in ("svd", "ties_svd", "magnitude_prune_svd"):
        merged = combine(method, deltas, c)
        u, sv, vh = torch.linalg.svd(merged.double())
        tensors[f"{method}.delta"] = ((u[:, :SVD_RANK] * sv[:SVD_RANK]) @ vh[:SVD_RANK]).float()

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "peft-merge.safetensors")
    write_safetensors(path, tensors)
    for k in sorted(tensors):
        print(f"{k:28s} {tuple(tensors[k].shape)} max|v| {tensors[k].abs().max().item():.4f}")
    print("wrote", path)


if __name__ == "__main__":
    main()
