#!/usr/bin/python3
"""Times the official SAM image encoder (the reference for `peft4j bench --model sam-vit-b --mode infer`).

Usage: /usr/bin/python3 tools/bench_sam_encoder.py SEGMENT_ANYTHING_DIR [vit_b|vit_l|vit_h|tiny] [STEPS] [THREADS]

SEGMENT_ANYTHING_DIR is a checkout of facebookresearch/segment-anything (the folder holding the
`segment_anything` package); nothing of it is copied here. The encoder gets random weights (only
time and memory are measured), the official ViT-B/L/H sizes at 1024x1024 (or the tiny fixture's),
and runs forward under torch.no_grad() on one random image: one untimed warm-up, then STEPS timed
passes. Prints JSON: median and minimum seconds, and the process's peak resident memory (MB).
"""

import json
import resource
import sys
import time
from functools import partial

import torch

SIZES = {
    "vit_b": dict(embed_dim=768, depth=12, num_heads=12, global_attn_indexes=[2, 5, 8, 11], img_size=1024,
                  patch_size=16, window_size=14, out_chans=256),
    "vit_l": dict(embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=[5, 11, 17, 23], img_size=1024,
                  patch_size=16, window_size=14, out_chans=256),
    "vit_h": dict(embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=[7, 15, 23, 31], img_size=1024,
                  patch_size=16, window_size=14, out_chans=256),
    "tiny": dict(embed_dim=64, depth=4, num_heads=2, global_attn_indexes=[1, 3], img_size=64, patch_size=8,
                 window_size=5, out_chans=32),
}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.path.insert(0, sys.argv[1])
    from segment_anything.modeling import ImageEncoderViT

    name = sys.argv[2] if len(sys.argv) > 2 else "vit_b"
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 2)
    size = SIZES[name]
    encoder = ImageEncoderViT(mlp_ratio=4, qkv_bias=True, use_rel_pos=True,
                              norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), **size).eval()
    x = torch.randn(1, 3, size["img_size"], size["img_size"])
    times = []
    with torch.no_grad():
        for i in range(steps + 1):
            t0 = time.perf_counter()
            encoder(x).sum().item()
            if i > 0:
                times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"model": name, "steps": steps, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "median_s": times[len(times) // 2], "min_s": times[0],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
