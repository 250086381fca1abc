#!/usr/bin/python3
"""Independent check of a PEFT-format adapter (LoRA, DoRA or IA3) written by peft4j.

Usage: /usr/bin/python3 tools/check_peft_adapter.py MODEL_DIR ADAPTER_DIR INPUTS.safetensors LOGITS.safetensors

MODEL_DIR holds a Hugging Face ViT (config.json + model.safetensors, ViTForImageClassification
names); ADAPTER_DIR holds adapter_config.json + adapter_model.safetensors as Hugging Face PEFT writes
them. The adapter is folded into the weights the way PEFT merges it: LoRA W <- W + s*B*A (r,
lora_alpha, use_rslora, rank_pattern and alpha_pattern read the way PEFT reads them); DoRA
W <- m / ||W + s*B*A||_row * (W + s*B*A); IA3 W <- diag(l) W, b <- l*b for an [out, 1] vector, W <- W diag(l)
for a feed-forward [1, in] one. modules_to_save tensors replace the base ones, and torchvision's
VisionTransformer runs `pixel_values` from INPUTS. Prints the max abs
difference to `logits` in LOGITS. Exit code 0 if it is <= 1e-4, 1 if larger, 2 on malformed input.
"""

import json
import math
import os
import re
import sys

import torch

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import VitShape, read_safetensors, run_logits, torchvision_vit

TOLERANCE = 1e-4
PEFT_PREFIX = "base_model.model."
LORA_SUFFIXES = (".lora_A.weight", ".lora_B.weight")
DORA_SUFFIX = ".lora_magnitude_vector"
IA3_SUFFIX = ".ia3_l"


def pattern_value(patterns, module, default):
    """PEFT's rank_pattern / alpha_pattern lookup: the first key whose regex matches the end of the
    module name at a dot boundary wins."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def is_target(target_modules, module):
    """PEFT's target_modules rule: a string is a full-match regex, a list matches a module whose
    name equals an entry or ends with '.' + entry."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, module) is not None
    return any(module == t or module.endswith("." + t) for t in target_modules)


def lora_scale(config, module, rank, where):
    configured_rank = pattern_value(config.get("rank_pattern") or {}, module, config.get("r", 8))
    if configured_rank != rank:
        raise ValueError(f"{where}: '{module}' has lora_A of rank {rank} but adapter_config.json gives r={configured_rank}")
    alpha = pattern_value(config.get("alpha_pattern") or {}, module, config.get("lora_alpha", 8))
    return alpha / math.sqrt(rank) if config.get("use_rslora", False) else alpha / rank


def apply_adapter(weights, config, tensors, where):
    """Returns a copy of the HF-named weights with the adapter folded in."""
    peft_type = config.get("peft_type")
    if peft_type not in ("LORA", "IA3"):
        raise ValueError(f"{where}: peft_type is {peft_type!r}, only 'LORA' (with or without DoRA) and 'IA3' are checked")
    dora = peft_type == "LORA" and config.get("use_dora", False)
    result = dict(weights)
    lora_modules = set()
    for key, tensor in tensors.items():
        if not key.startswith(PEFT_PREFIX):
            raise ValueError(f"{where}: key '{key}' does not start with '{PEFT_PREFIX}'")
        name = key[len(PEFT_PREFIX):]
        suffix = next((s for s in LORA_SUFFIXES if name.endswith(s)), None)
        if peft_type == "IA3" and name.endswith(IA3_SUFFIX):
            apply_ia3(result, config, name[:-len(IA3_SUFFIX)], tensor, where)
        elif dora and name.endswith(DORA_SUFFIX):
            continue  # applied with its module's LoRA below
        elif suffix is not None and peft_type == "LORA":
            lora_modules.add(name[:-len(suffix)])
        elif ".lora_" in name:
            raise ValueError(f"{where}: key '{key}' looks like LoRA but is not '<module>.lora_A.weight' or "
                             "'<module>.lora_B.weight' (adapter name left in the key?)")
        elif name not in weights:
            raise ValueError(f"{where}: key '{key}' names no tensor of the model")
        elif tensor.shape != weights[name].shape and not name.startswith("classifier."):
            raise ValueError(f"{where}: '{key}' has shape {list(tensor.shape)}, "
                             f"the model's is {list(weights[name].shape)}")
        else:
            result[name] = tensor  # modules_to_save (or a trained bias) replaces the base tensor
    for module in sorted(lora_modules):
        a_key, b_key = PEFT_PREFIX + module + LORA_SUFFIXES[0], PEFT_PREFIX + module + LORA_SUFFIXES[1]
        if a_key not in tensors or b_key not in tensors:
            raise ValueError(f"{where}: '{module}' needs both lora_A and lora_B")
        if not is_target(config.get("target_modules") or [], module):
            raise ValueError(f"{where}: '{module}' has LoRA weights but does not match target_modules "
                             f"{config.get('target_modules')}")
        a, b = tensors[a_key].double(), tensors[b_key].double()
        base_key = module + ".weight"
        if base_key not in weights:
            raise ValueError(f"{where}: LoRA module '{module}' names no Linear of the model")
        base = weights[base_key]
        if a.shape[0] != b.shape[1] or a.shape[1] != base.shape[1] or b.shape[0] != base.shape[0]:
            raise ValueError(f"{where}: '{module}' lora_A {list(a.shape)} / lora_B {list(b.shape)} do not fit "
                             f"the base weight {list(base.shape)}")
        scale = lora_scale(config, module, a.shape[0], where)
        adapted = base.double() + scale * (b @ a)
        if dora:
            m_key = PEFT_PREFIX + module + DORA_SUFFIX
            if m_key not in tensors or tensors[m_key].shape != (base.shape[0],):
                raise ValueError(f"{where}: DoRA module '{module}' needs '{m_key}' of shape [{base.shape[0]}]")
            adapted = (tensors[m_key].double() / adapted.norm(dim=1)).unsqueeze(1) * adapted
        result[base_key] = adapted.float()
    return result


def is_feedforward(config, module):
    """PEFT's IA3 rule: a regex must match the whole name, a list entry only has to end it (no dot boundary)."""
    ff = config.get("feedforward_modules") or []
    if isinstance(ff, str):
        return re.fullmatch(ff, module) is not None
    return any(module.endswith(t) for t in ff)


def apply_ia3(result, config, module, l, where):
    if not is_target(config.get("target_modules") or [], module):
        raise ValueError(f"{where}: '{module}' has an ia3_l but does not match target_modules")
    w_key, b_key = module + ".weight", module + ".bias"
    if w_key not in result:
        raise ValueError(f"{where}: IA3 module '{module}' names no Linear of the model")
    out_features, in_features = result[w_key].shape
    if is_feedforward(config, module):
        if tuple(l.shape) != (1, in_features):
            raise ValueError(f"{where}: feed-forward '{module}' needs ia3_l [1, {in_features}], got {list(l.shape)}")
        result[w_key] = (result[w_key].double() * l.double()).float()
    else:
        if tuple(l.shape) != (out_features, 1):
            raise ValueError(f"{where}: '{module}' needs ia3_l [{out_features}, 1], got {list(l.shape)}")
        result[w_key] = (result[w_key].double() * l.double()).float()
        if b_key in result:
            result[b_key] = (result[b_key].double() * l.double().flatten()).float()


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read JSON: {e}") from e


def require_file(path):
    if not os.path.isfile(path):
        raise ValueError(f"{path}: file not found")
    return path


def check(model_dir, adapter_dir, inputs_path, logits_path):
    config_path = require_file(os.path.join(model_dir, "config.json"))
    shape = VitShape.from_hf_config(load_json(config_path), config_path)
    weights = read_safetensors(require_file(os.path.join(model_dir, "model.safetensors")))
    adapter_config_path = require_file(os.path.join(adapter_dir, "adapter_config.json"))
    adapter_path = require_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    folded = apply_adapter(weights, load_json(adapter_config_path), read_safetensors(adapter_path), adapter_path)

    pixel_values = read_safetensors(require_file(inputs_path)).get("pixel_values")
    if pixel_values is None or pixel_values.dim() != 4 or pixel_values.shape[2] != pixel_values.shape[3]:
        raise ValueError(f"{inputs_path}: needs a square 'pixel_values' tensor [n, 3, h, h]")
    expected = read_safetensors(require_file(logits_path)).get("logits")
    if expected is None:
        raise ValueError(f"{logits_path}: no 'logits' tensor")

    logits = run_logits(torchvision_vit(folded, shape, image_size=pixel_values.shape[2], where=model_dir), pixel_values)
    if logits.shape != expected.shape:
        raise ValueError(f"{logits_path}: 'logits' has shape {list(expected.shape)}, the reference gives {list(logits.shape)}")
    return (logits.double() - expected.double()).abs().max().item(), logits.abs().max().item()


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        diff, max_logit = check(*argv[1:])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    verdict = "OK" if diff <= TOLERANCE else "MISMATCH"
    print(f"{verdict}: max abs difference {diff:.3g} (tolerance {TOLERANCE:g}, max |logit| {max_logit:.4f})")
    return 0 if diff <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
