#!/usr/bin/env python3
"""The workload of `peft4j bench --preset vit-*` in PyTorch eager, for tools/bench_vs_torch.sh.

A timm-layout ViT (pre-norm blocks, fused qkv, exact GELU) with random weights; --mode infer (no grad),
lora (r=8 on qkv, frozen base, trainable head) or full; AdamW steps; warm-up until a step is within 10% of
the one before (at least --warmup). Prints one JSON line: median/min/p90 step time, images/s and the
process's peak resident memory (ru_maxrss). Debian's python3-torch (+ libopenblas0-pthread) runs it.
"""
import argparse, json, math, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {'vit-ti16-224': (192, 12, 3), 'vit-s16-224': (384, 12, 6), 'vit-b16-224': (768, 12, 12), 'vit-l16-224': (1024, 24, 16)}


class Lora(nn.Module):
    def __init__(self, base, r):
        super().__init__()
        self.base, self.scale = base, 2.0  # alpha = 2r, as peft4j bench's default
        self.a = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
        self.b = nn.Parameter(torch.zeros(base.out_features, r))

    def forward(self, x):
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.qkv, self.proj = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.norm2, self.fc1, self.fc2 = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = ((q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, d, depth, heads, labels, img=224, patch=16):
        super().__init__()
        self.patch = nn.Conv2d(3, d, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, (img // patch) ** 2 + 1, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(depth))
        self.norm, self.head = nn.LayerNorm(d, eps=1e-6), nn.Linear(d, labels)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--preset', default='vit-ti16-224', choices=sorted(SIZES))
    p.add_argument('--mode', default='lora', choices=['infer', 'lora', 'full'])
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--rank', type=int, default=8)
    p.add_argument('--labels', type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d, depth, heads = SIZES[a.preset]
    model = ViT(d, depth, heads, a.labels)
    if a.mode == 'lora':
        for q in model.parameters():
            q.requires_grad_(False)
        for blk in model.blocks:
            blk.qkv = Lora(blk.qkv, a.rank)
        for q in model.head.parameters():
            q.requires_grad_(True)
    trainable = [q for q in model.parameters() if q.requires_grad] if a.mode != 'infer' else []
    opt = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01) if trainable else None
    x = torch.randn(a.batch_size, 3, 224, 224)
    y = torch.randint(0, a.labels, (a.batch_size,))

    def step():
        if a.mode == 'infer':
            with torch.inference_mode():
                model.eval()
                model(x).sum().item()
        else:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            loss.item()

    warmups, previous = 0, None
    while warmups < 10:
        t = time.perf_counter()
        step()
        t = time.perf_counter() - t
        warmups += 1
        steady = previous is not None and abs(t - previous) <= 0.1 * previous
        previous = t
        if warmups >= a.warmup and steady:
            break
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    s = sorted(times)
    print(json.dumps(dict(engine='pytorch ' + torch.__version__, preset=a.preset, mode=a.mode, batch_size=a.batch_size,
                          threads=a.threads, median_s=s[len(s) // 2], min_s=s[0], p90_s=s[min(len(s) - 1, math.ceil(0.9 * len(s)) - 1)],
                          images_per_s=a.batch_size / s[len(s) // 2], warmup_steps=warmups,
                          peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, step_times_s=times)))


if __name__ == '__main__':
    main()
