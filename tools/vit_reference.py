"""Shared pieces of the golden-fixture tools: a dependency-free safetensors reader/writer, the
Hugging Face ViT <-> timm <-> torchvision weight-name mappings, and the torchvision
VisionTransformer that serves as the independent reference implementation.

Only torch, torchvision and numpy are used (no safetensors, transformers, timm or peft packages),
so the fixtures can be regenerated with Debian's python3-torch and python3-torchvision. torchvision is
imported only where the reference ViT is built, so the safetensors helpers need torch and numpy alone.
"""

import json
import math
import struct
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------

_DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int64: "I64"}


def _tensor_bytes(tensor):
    tensor = tensor.detach().contiguous().cpu()
    if tensor.dtype == torch.float32:
        return tensor.numpy().astype("<f4").tobytes()
    if tensor.dtype == torch.float16:
        return tensor.numpy().astype("<f2").tobytes()
    if tensor.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 16-bit patterns as int16.
        return tensor.view(torch.int16).numpy().astype("<i2").tobytes()
    if tensor.dtype == torch.int64:
        return tensor.numpy().astype("<i8").tobytes()
    raise ValueError(f"unsupported dtype {tensor.dtype}")


def write_safetensors(path, tensors):
    """Writes tensors (name -> torch tensor of F32/F16/BF16/I64) in safetensors layout: 8-byte
    little-endian header length, compact JSON header with sorted keys and
    "__metadata__":{"format":"pt"}, space-padded so the data section starts 8-byte aligned,
    then the tensor data contiguous in sorted key order."""
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name]
        data = _tensor_bytes(tensor)
        header[name] = {
            "dtype": _DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((-(8 + len(header_bytes))) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for data in chunks:
            out.write(data)


def read_safetensors(path):
    """Reads a safetensors file into name -> float32 torch tensor (F16 and BF16 are widened; I64
    stays int64).
    Raises ValueError naming the file on anything malformed."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file ({len(blob)} bytes)")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if 8 + header_len > len(blob):
        raise ValueError(f"{path}: header length {header_len} runs past the end of the file")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: header is not valid JSON: {e}") from e
    data = blob[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        count = math.prod(shape)
        width = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}.get(dtype)
        if width is None:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {dtype}")
        if not (0 <= begin <= end <= len(data)) or end - begin != count * width:
            raise ValueError(f"{path}: tensor '{name}' has data_offsets [{begin},{end}] that do not fit "
                             f"shape {shape} of {dtype} in a data section of {len(data)} bytes")
        raw = data[begin:end]
        if dtype == "F32":
            array = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif dtype == "F16":
            array = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dtype == "I64":
            array = np.frombuffer(raw, dtype="<i8").astype(np.int64)
        else:
            # BF16 is the upper half of an F32: shift the bits back into place.
            array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        tensors[name] = torch.from_numpy(array.reshape(shape).copy())
    return tensors


# ---------------------------------------------------------------------------------------------
# ViT shape and weight names
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VitShape:
    image_size: int
    patch_size: int
    num_layers: int
    num_heads: int
    hidden_dim: int
    mlp_dim: int
    num_classes: int
    layer_norm_eps: float
    qkv_bias: bool = True

    @property
    def grid(self):
        return self.image_size // self.patch_size

    @staticmethod
    def from_hf_config(config, path="config.json"):
        """Reads the sizes of a Hugging Face ViTConfig dict; rejects what the reference cannot run."""
        act = config.get("hidden_act", "gelu")
        if act != "gelu":
            raise ValueError(f"{path}: hidden_act '{act}' not supported (torchvision ViT uses exact gelu)")
        try:
            return VitShape(
                image_size=config["image_size"],
                patch_size=config["patch_size"],
                num_layers=config["num_hidden_layers"],
                num_heads=config["num_attention_heads"],
                hidden_dim=config["hidden_size"],
                mlp_dim=config["intermediate_size"],
                num_classes=len(config.get("id2label", {})) or 2,
                layer_norm_eps=config.get("layer_norm_eps", 1e-12),
                qkv_bias=config.get("qkv_bias", True),
            )
        except KeyError as e:
            raise ValueError(f"{path}: missing key {e}") from e


def hf_layer_keys(i):
    """Hugging Face ViT keys of encoder layer i, as (key, kind) in module order."""
    p = f"vit.encoder.layer.{i}."
    keys = [(p + "layernorm_before.weight", "ln_weight"), (p + "layernorm_before.bias", "ln_bias")]
    for name in ("query", "key", "value"):
        keys += [(p + f"attention.attention.{name}.weight", "linear"), (p + f"attention.attention.{name}.bias", "bias")]
    keys += [
        (p + "attention.output.dense.weight", "linear"), (p + "attention.output.dense.bias", "bias"),
        (p + "layernorm_after.weight", "ln_weight"), (p + "layernorm_after.bias", "ln_bias"),
        (p + "intermediate.dense.weight", "linear"), (p + "intermediate.dense.bias", "bias"),
        (p + "output.dense.weight", "linear"), (p + "output.dense.bias", "bias"),
    ]
    return keys


def hf_shapes(shape):
    """Every Hugging Face ViTForImageClassification tensor as (key, kind, tensor shape), in module
    order (the order in which random weights are drawn)."""
    d, m = shape.hidden_dim, shape.mlp_dim
    sizes = {
        "attention.attention.query.weight": [d, d], "attention.attention.key.weight": [d, d],
        "attention.attention.value.weight": [d, d], "attention.output.dense.weight": [d, d],
        "intermediate.dense.weight": [m, d], "intermediate.dense.bias": [m],
        "output.dense.weight": [d, m],
    }
    rows = [
        ("vit.embeddings.cls_token", "embed", [1, 1, d]),
        ("vit.embeddings.position_embeddings", "embed", [1, shape.grid ** 2 + 1, d]),
        ("vit.embeddings.patch_embeddings.projection.weight", "linear", [d, 3, shape.patch_size, shape.patch_size]),
        ("vit.embeddings.patch_embeddings.projection.bias", "bias", [d]),
    ]
    for i in range(shape.num_layers):
        prefix = f"vit.encoder.layer.{i}."
        for key, kind in hf_layer_keys(i):
            rows.append((key, kind, sizes.get(key[len(prefix):], [d])))
    rows += [
        ("vit.layernorm.weight", "ln_weight", [d]), ("vit.layernorm.bias", "ln_bias", [d]),
        ("classifier.weight", "linear", [shape.num_classes, d]), ("classifier.bias", "bias", [shape.num_classes]),
    ]
    return rows


def _require(weights, key, where):
    if key not in weights:
        raise ValueError(f"{where}: missing tensor '{key}'")
    return weights[key]


def hf_to_torchvision(hf, shape, where="model"):
    """Maps Hugging Face ViT names onto torchvision's VisionTransformer state dict
    (its in_proj_weight / in_proj_bias are q, k, v concatenated along the output axis)."""
    tv = {
        "class_token": _require(hf, "vit.embeddings.cls_token", where),
        "encoder.pos_embedding": _require(hf, "vit.embeddings.position_embeddings", where),
        "conv_proj.weight": _require(hf, "vit.embeddings.patch_embeddings.projection.weight", where),
        "conv_proj.bias": _require(hf, "vit.embeddings.patch_embeddings.projection.bias", where),
        "encoder.ln.weight": _require(hf, "vit.layernorm.weight", where),
        "encoder.ln.bias": _require(hf, "vit.layernorm.bias", where),
        "heads.head.weight": _require(hf, "classifier.weight", where),
        "heads.head.bias": _require(hf, "classifier.bias", where),
    }
    for i in range(shape.num_layers):
        h, t = f"vit.encoder.layer.{i}.", f"encoder.layers.encoder_layer_{i}."
        qkv = [f"{h}attention.attention.{n}" for n in ("query", "key", "value")]
        tv[t + "self_attention.in_proj_weight"] = torch.cat([_require(hf, k + ".weight", where) for k in qkv])
        if shape.qkv_bias:
            tv[t + "self_attention.in_proj_bias"] = torch.cat([_require(hf, k + ".bias", where) for k in qkv])
        else:
            tv[t + "self_attention.in_proj_bias"] = torch.zeros(3 * shape.hidden_dim)
        for tv_name, hf_name in (("ln_1", "layernorm_before"), ("self_attention.out_proj", "attention.output.dense"),
                                 ("ln_2", "layernorm_after"), ("mlp.0", "intermediate.dense"),
                                 ("mlp.3", "output.dense")):
            for suffix in (".weight", ".bias"):
                tv[t + tv_name + suffix] = _require(hf, h + hf_name + suffix, where)
    return tv


def _hf_timm_pairs(shape):
    """(timm key, hf key) for every tensor except the fused qkv."""
    pairs = [
        ("cls_token", "vit.embeddings.cls_token"), ("pos_embed", "vit.embeddings.position_embeddings"),
        ("patch_embed.proj.weight", "vit.embeddings.patch_embeddings.projection.weight"),
        ("patch_embed.proj.bias", "vit.embeddings.patch_embeddings.projection.bias"),
        ("norm.weight", "vit.layernorm.weight"), ("norm.bias", "vit.layernorm.bias"),
        ("head.weight", "classifier.weight"), ("head.bias", "classifier.bias"),
    ]
    for i in range(shape.num_layers):
        b, h = f"blocks.{i}.", f"vit.encoder.layer.{i}."
        for timm_name, hf_name in (("norm1", "layernorm_before"), ("attn.proj", "attention.output.dense"),
                                   ("norm2", "layernorm_after"), ("mlp.fc1", "intermediate.dense"),
                                   ("mlp.fc2", "output.dense")):
            for suffix in (".weight", ".bias"):
                pairs.append((b + timm_name + suffix, h + hf_name + suffix))
    return pairs


def hf_to_timm(hf, shape):
    timm = {t: hf[h] for t, h in _hf_timm_pairs(shape)}
    for i in range(shape.num_layers):
        h = f"vit.encoder.layer.{i}.attention.attention."
        for suffix in ("weight", "bias"):
            timm[f"blocks.{i}.attn.qkv.{suffix}"] = torch.cat([hf[h + n + "." + suffix] for n in ("query", "key", "value")])
    return timm


def timm_to_hf(timm, shape):
    hf = {h: timm[t] for t, h in _hf_timm_pairs(shape)}
    for i in range(shape.num_layers):
        h = f"vit.encoder.layer.{i}.attention.attention."
        for suffix in ("weight", "bias"):
            q, k, v = timm[f"blocks.{i}.attn.qkv.{suffix}"].chunk(3)
            hf[h + "query." + suffix], hf[h + "key." + suffix], hf[h + "value." + suffix] = q, k, v
    return hf


# ---------------------------------------------------------------------------------------------
# Reference model
# ---------------------------------------------------------------------------------------------


def resize_pos_embed(pos_embed, new_grid):
    """Bicubic resize of the patch-grid part of a [1, 1+g*g, d] position embedding, class-token
    position kept: what HF ViT's interpolate_pos_encoding and timm's resample_abs_pos_embed do."""
    cls_pos, grid_pos = pos_embed[:, :1], pos_embed[:, 1:]
    old_grid = math.isqrt(grid_pos.shape[1])
    if old_grid == new_grid:
        return pos_embed
    d = grid_pos.shape[2]
    grid = grid_pos.reshape(1, old_grid, old_grid, d).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    return torch.cat([cls_pos, grid.permute(0, 2, 3, 1).reshape(1, new_grid * new_grid, d)], dim=1)


def torchvision_vit(hf, shape, image_size=None, where="model"):
    """torchvision VisionTransformer (eval, float32) holding the given Hugging Face-named weights.
    With a different image_size, the position embedding is bicubically resized to the new grid."""
    from torchvision.models.vision_transformer import VisionTransformer  # only this function needs torchvision

    image_size = image_size or shape.image_size
    num_classes = _require(hf, "classifier.weight", where).shape[0]
    model = VisionTransformer(
        image_size=image_size, patch_size=shape.patch_size, num_layers=shape.num_layers,
        num_heads=shape.num_heads, hidden_dim=shape.hidden_dim, mlp_dim=shape.mlp_dim,
        num_classes=num_classes, norm_layer=partial(torch.nn.LayerNorm, eps=shape.layer_norm_eps),
    )
    channels = _require(hf, "vit.embeddings.patch_embeddings.projection.weight", where).shape[1]
    if channels != 3:  # torchvision hard-codes RGB; e.g. Fashion-MNIST models take one channel
        model.conv_proj = torch.nn.Conv2d(channels, shape.hidden_dim, kernel_size=shape.patch_size,
                                          stride=shape.patch_size)
    state = hf_to_torchvision(hf, shape, where)
    state["encoder.pos_embedding"] = resize_pos_embed(state["encoder.pos_embedding"], image_size // shape.patch_size)
    for key, value in state.items():
        expected = model.state_dict()[key].shape
        if value.shape != expected:
            raise ValueError(f"{where}: tensor for '{key}' has shape {list(value.shape)}, expected {list(expected)}")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model.eval()


def run_logits(model, pixel_values):
    with torch.no_grad():
        return model(pixel_values.float())
