#!/usr/bin/python3
"""Generates the vit-tiny golden fixtures under core/src/test/resources/fixtures/vit-tiny/.

The reference is torchvision's VisionTransformer (an implementation independent of peft4j, of
Hugging Face transformers and of timm). Random weights are loaded into it and the same weights are
exported under Hugging Face and timm names, with PEFT-format LoRA adapters and the logits each
variant must produce. Deterministic: fixed seeds, one thread, so two runs give identical bytes.

Usage: /usr/bin/python3 tools/make_vit_fixtures.py [OUTPUT_DIR]
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import (VitShape, hf_shapes, hf_to_timm, resize_pos_embed, run_logits, timm_to_hf,
                           torchvision_vit, write_safetensors)

SHAPE = VitShape(image_size=16, patch_size=4, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64,
                 num_classes=5, layer_norm_eps=1e-6)
LABELS = ["circle", "square", "triangle", "cross", "ring"]
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources",
                           "fixtures", "vit-tiny")

HF_CONFIG = {
    "architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": SHAPE.hidden_dim,
    "num_hidden_layers": SHAPE.num_layers, "num_attention_heads": SHAPE.num_heads,
    "intermediate_size": SHAPE.mlp_dim, "hidden_act": "gelu", "image_size": SHAPE.image_size,
    "patch_size": SHAPE.patch_size, "num_channels": 3, "layer_norm_eps": SHAPE.layer_norm_eps,
    "qkv_bias": True, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02, "encoder_stride": SHAPE.patch_size,
    "id2label": {str(i): name for i, name in enumerate(LABELS)},
    "label2id": {name: i for i, name in enumerate(LABELS)},
    "torch_dtype": "float32", "transformers_version": "4.46.0",
}

# The LoRA settings both adapters share; each adapter overrides a few.
LORA_CONFIG_BASE = {
    "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "vit-tiny", "bias": "none",
    "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
    "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_dropout": 0.1,
    "megatron_config": None, "megatron_core": "megatron.core", "peft_type": "LORA", "revision": None,
    "task_type": None, "use_dora": False, "use_rslora": False,
}
HF_LORA_CONFIG = dict(LORA_CONFIG_BASE, lora_alpha=8, r=4, rank_pattern={"value": 2},
                      target_modules=["query", "value"], modules_to_save=["classifier"])
TIMM_LORA_CONFIG = dict(LORA_CONFIG_BASE, lora_alpha=4, r=2, rank_pattern={}, use_rslora=True,
                        target_modules=["qkv"], modules_to_save=["head"])
PEFT_PREFIX = "base_model.model."


def random_weights(generator):
    """Hugging Face-named weights drawn in module order: Linear/conv N(0,1)/sqrt(fan_in),
    biases 0.1*N, LayerNorm weight 1+0.1*N and bias 0.1*N, class token and positions 0.2*N."""
    weights = {}
    for key, kind, size in hf_shapes(SHAPE):
        noise = torch.randn(size, generator=generator)
        if kind == "linear":
            weights[key] = noise / math.sqrt(math.prod(size[1:]))
        elif kind == "ln_weight":
            weights[key] = 1 + 0.1 * noise
        elif kind in ("bias", "ln_bias"):
            weights[key] = 0.1 * noise
        else:
            weights[key] = 0.2 * noise
    return weights


def lora_pair(generator, rank, in_features, out_features):
    """A ~ N(0,1)/sqrt(in), B ~ 0.5*N(0,1)/sqrt(r): B non-zero so the adapter changes the logits."""
    a = torch.randn(rank, in_features, generator=generator) / math.sqrt(in_features)
    b = 0.5 * torch.randn(out_features, rank, generator=generator) / math.sqrt(rank)
    return a, b


def random_head(generator):
    weight = torch.randn(SHAPE.num_classes, SHAPE.hidden_dim, generator=generator) / math.sqrt(SHAPE.hidden_dim)
    bias = 0.1 * torch.randn(SHAPE.num_classes, generator=generator)
    return weight, bias


def fold(weights, module, a, b, scale):
    """W <- W + s*B*A, computed in float64 so the folded reference carries no extra rounding."""
    key = module + ".weight"
    weights[key] = (weights[key].double() + scale * (b.double() @ a.double())).float()


def hf_adapter(generator, hf):
    """HF-named adapter on query (r=4, s=8/4) and value (r=2 from rank_pattern, s=8/2) plus a new
    classifier; returns (adapter tensors, weights with the adapter folded in)."""
    tensors, folded = {}, dict(hf)
    d = SHAPE.hidden_dim
    for i in range(SHAPE.num_layers):
        for name, rank in (("query", 4), ("value", 2)):
            module = f"vit.encoder.layer.{i}.attention.attention.{name}"
            a, b = lora_pair(generator, rank, d, d)
            tensors[PEFT_PREFIX + module + ".lora_A.weight"] = a
            tensors[PEFT_PREFIX + module + ".lora_B.weight"] = b
            fold(folded, module, a, b, 8 / rank)
    weight, bias = random_head(generator)
    tensors[PEFT_PREFIX + "classifier.weight"], tensors[PEFT_PREFIX + "classifier.bias"] = weight, bias
    folded["classifier.weight"], folded["classifier.bias"] = weight, bias
    return tensors, folded


def timm_adapter(generator, timm):
    """timm-named adapter on the fused qkv (r=2, rsLoRA s=4/sqrt(2)) plus a new head."""
    tensors, folded = {}, dict(timm)
    d = SHAPE.hidden_dim
    for i in range(SHAPE.num_layers):
        module = f"blocks.{i}.attn.qkv"
        a, b = lora_pair(generator, 2, d, 3 * d)
        tensors[PEFT_PREFIX + module + ".lora_A.weight"] = a
        tensors[PEFT_PREFIX + module + ".lora_B.weight"] = b
        fold(folded, module, a, b, 4 / math.sqrt(2))
    weight, bias = random_head(generator)
    tensors[PEFT_PREFIX + "head.weight"], tensors[PEFT_PREFIX + "head.bias"] = weight, bias
    folded["head.weight"], folded["head.bias"] = weight, bias
    return tensors, folded


def hf_forward_float64(hf, x):
    """A second ViT forward written directly against the Hugging Face names, in float64. It only
    checks that the name mapping into torchvision is right (q/k/v order, which LayerNorm is which)."""
    w = {k: v.double() for k, v in hf.items()}
    d, heads = SHAPE.hidden_dim, SHAPE.num_heads
    x = x.double()
    n = x.shape[0]
    e = F.conv2d(x, w["vit.embeddings.patch_embeddings.projection.weight"],
                 w["vit.embeddings.patch_embeddings.projection.bias"], stride=SHAPE.patch_size)
    h = torch.cat([w["vit.embeddings.cls_token"].expand(n, -1, -1), e.flatten(2).transpose(1, 2)], dim=1)
    h = h + w["vit.embeddings.position_embeddings"]
    s = h.shape[1]

    def norm(t, name):
        return F.layer_norm(t, (d,), w[name + ".weight"], w[name + ".bias"], SHAPE.layer_norm_eps)

    def linear(t, name):
        return F.linear(t, w[name + ".weight"], w[name + ".bias"])

    for i in range(SHAPE.num_layers):
        p = f"vit.encoder.layer.{i}."
        y = norm(h, p + "layernorm_before")
        q, k, v = (linear(y, p + "attention.attention." + m).view(n, s, heads, d // heads).transpose(1, 2)
                   for m in ("query", "key", "value"))
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // heads), dim=-1) @ v
        h = h + linear(attn.transpose(1, 2).reshape(n, s, d), p + "attention.output.dense")
        y = norm(h, p + "layernorm_after")
        h = h + linear(F.gelu(linear(y, p + "intermediate.dense")), p + "output.dense")
    return linear(norm(h, "vit.layernorm")[:, 0], "classifier")


def check_close(name, actual, expected, tolerance):
    diff = (actual.double() - expected.double()).abs().max().item()
    if diff > tolerance:
        raise AssertionError(f"self-check {name}: max abs difference {diff:.3g} > {tolerance}")
    return diff


def write_json(path, obj, trailing_newline):
    # transformers' config.json ends with a newline, PEFT's adapter_config.json does not.
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(obj, indent=2, sort_keys=True) + ("\n" if trailing_newline else ""))


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    torch.set_num_threads(1)  # one thread: the same summation order on every run

    hf = random_weights(torch.Generator().manual_seed(0))
    inputs_generator = torch.Generator().manual_seed(1)
    pixel_values = torch.randn(4, 3, 16, 16, generator=inputs_generator)
    pixel_values_24 = torch.randn(2, 3, 24, 24, generator=inputs_generator)

    logits = run_logits(torchvision_vit(hf, SHAPE), pixel_values)
    check_close("HF-named float64 forward vs torchvision", logits, hf_forward_float64(hf, pixel_values), 1e-5)

    timm = hf_to_timm(hf, SHAPE)
    round_trip = timm_to_hf(timm, SHAPE)
    if any(not torch.equal(round_trip[k], hf[k]) for k in hf) or round_trip.keys() != hf.keys():
        raise AssertionError("self-check: timm -> HF names is not the inverse of HF -> timm")

    pos_embed_interp = resize_pos_embed(hf["vit.embeddings.position_embeddings"], 24 // SHAPE.patch_size)
    logits_interp = run_logits(torchvision_vit(hf, SHAPE, image_size=24), pixel_values_24)

    hf_lora_tensors, hf_lora_folded = hf_adapter(torch.Generator().manual_seed(2), hf)
    logits_lora = run_logits(torchvision_vit(hf_lora_folded, SHAPE), pixel_values)

    timm_lora_tensors, timm_lora_folded = timm_adapter(torch.Generator().manual_seed(3), timm)
    logits_lora_timm = run_logits(torchvision_vit(timm_to_hf(timm_lora_folded, SHAPE), SHAPE), pixel_values)

    timm_bf16 = {k: v.to(torch.bfloat16) for k, v in timm.items()}  # round to nearest even
    widened = timm_to_hf({k: v.float() for k, v in timm_bf16.items()}, SHAPE)
    logits_bf16 = run_logits(torchvision_vit(widened, SHAPE), pixel_values)

    expected = {"logits": logits, "logits_interp": logits_interp, "pos_embed_interp": pos_embed_interp,
                "logits_lora": logits_lora, "logits_lora_timm": logits_lora_timm, "logits_bf16": logits_bf16}

    for sub in ("hf", "timm", "peft-lora-hf", "peft-lora-timm"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    write_safetensors(os.path.join(out_dir, "hf", "model.safetensors"), hf)
    write_safetensors(os.path.join(out_dir, "timm", "model.safetensors"), timm)
    write_safetensors(os.path.join(out_dir, "timm", "model_bf16.safetensors"), timm_bf16)
    for sub in ("hf", "timm"):
        write_json(os.path.join(out_dir, sub, "config.json"), HF_CONFIG, trailing_newline=True)
    write_safetensors(os.path.join(out_dir, "peft-lora-hf", "adapter_model.safetensors"), hf_lora_tensors)
    write_json(os.path.join(out_dir, "peft-lora-hf", "adapter_config.json"), HF_LORA_CONFIG, trailing_newline=False)
    write_safetensors(os.path.join(out_dir, "peft-lora-timm", "adapter_model.safetensors"), timm_lora_tensors)
    write_json(os.path.join(out_dir, "peft-lora-timm", "adapter_config.json"), TIMM_LORA_CONFIG,
               trailing_newline=False)
    write_safetensors(os.path.join(out_dir, "inputs.safetensors"),
                      {"pixel_values": pixel_values, "pixel_values_24": pixel_values_24})
    write_safetensors(os.path.join(out_dir, "expected.safetensors"), expected)

    print(f"wrote fixtures to {out_dir}")
    for name, tensor in expected.items():
        print(f"  {name:18s} shape {list(tensor.shape)}  max |value| {tensor.abs().max().item():.4f}")


if __name__ == "__main__":
    main()
