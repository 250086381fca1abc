#!/usr/bin/python3
"""Generates the text-model golden fixtures under core/src/test/resources/fixtures/text/:

  gpt2-tiny/         GPT2LMHeadModel (transformer.* names), golden logits and a greedy decode
  gpt2-tiny-legacy/  the same weights in the original OpenAI gpt2 layout (no prefix, attn.bias and
                     attn.masked_bias buffers); its golden is gpt2-tiny/golden.safetensors
  bert-tiny/         BertModel (bert.* names) with pooler, a padded batch
  roberta-tiny/      RobertaModel (roberta.* names) with pooler, a padded batch

The reference models are written from scratch in plain torch (tools/text_reference.py); before
anything is written, every expected tensor is recomputed in float64 through torch.nn's own
TransformerEncoderLayer and must agree within 1e-5. Deterministic: fixed seeds, one thread, so a
rerun gives identical bytes.

Usage: /usr/bin/python3 tools/make_text_fixtures.py [OUTPUT_DIR]
"""

import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from text_reference import (BertConfig, BertModel, Gpt2Config, Gpt2LMHeadModel, Prefixed, argmax_lowest,
                            bert_torch_nn_forward, draw_weights, gpt2_torch_nn_logits, greedy_decode, load)
from vit_reference import read_safetensors, write_safetensors

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources",
                           "fixtures", "text")
TOLERANCE = 1e-5        # float32 expected vs float64 recomputation
MIN_GREEDY_MARGIN = 0.05  # top-1 minus top-2 logit at every greedy step, far above float32 noise

GPT2_CONFIG = {
    "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": 61, "n_positions": 24,
    "n_embd": 32, "n_layer": 2, "n_head": 4, "n_inner": None, "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
    "bos_token_id": 0, "eos_token_id": 0, "tie_word_embeddings": True, "torch_dtype": "float32",
}
BERT_CONFIG = {
    "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 67, "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "max_position_embeddings": 20,
    "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute",
    "torch_dtype": "float32",
}
ROBERTA_CONFIG = dict(BERT_CONFIG, architectures=["RobertaModel"], model_type="roberta", vocab_size=71,
                      max_position_embeddings=22, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1,
                      bos_token_id=0, eos_token_id=2)

GREEDY_NEW_TOKENS = 10
# Random tied-embedding models like to repeat a token: the prompt is the first of up to PROMPT_TRIES
# draws whose greedy continuation has at least MIN_DISTINCT_NEW distinct tokens (margin as above).
PROMPT_TRIES = 100
MIN_DISTINCT_NEW = 6


def gpt2_shape(config):
    return Gpt2Config(vocab_size=config["vocab_size"], n_positions=config["n_positions"], n_embd=config["n_embd"],
                      n_layer=config["n_layer"], n_head=config["n_head"],
                      layer_norm_epsilon=config["layer_norm_epsilon"])


def bert_shape(config):
    return BertConfig(vocab_size=config["vocab_size"], hidden_size=config["hidden_size"],
                      num_hidden_layers=config["num_hidden_layers"],
                      num_attention_heads=config["num_attention_heads"],
                      intermediate_size=config["intermediate_size"],
                      max_position_embeddings=config["max_position_embeddings"],
                      type_vocab_size=config["type_vocab_size"], layer_norm_eps=config["layer_norm_eps"],
                      pad_token_id=config["pad_token_id"], roberta_positions=config["model_type"] == "roberta")


def check_close(name, actual, expected):
    diff = (actual.double() - expected.double()).abs().max().item()
    if diff > TOLERANCE:
        raise AssertionError(f"self-check {name}: max abs difference {diff:.3g} > {TOLERANCE}")
    print(f"  self-check {name:34s} float32 vs float64 torch.nn: max |diff| {diff:.2e}")
    return diff


def as_float64(weights):
    return {k: v.double() for k, v in weights.items()}


def top2_margin(row):
    top = torch.topk(row, 2).values
    return (top[0] - top[1]).item()


def make_gpt2(seed):
    """Returns (weights, legacy weights, golden) for gpt2-tiny, self-checked."""
    cfg = gpt2_shape(GPT2_CONFIG)
    weights = draw_weights(Gpt2LMHeadModel(cfg), torch.Generator().manual_seed(seed))
    model = load(Gpt2LMHeadModel(cfg), weights)

    inputs = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(0, cfg.vocab_size, (2, 9), generator=inputs)
    with torch.no_grad():
        logits = model(input_ids)
        for attempt in range(PROMPT_TRIES):
            prompt_ids = torch.randint(0, cfg.vocab_size, (1, 5), generator=inputs)
            greedy_ids, step_logits = greedy_decode(model, prompt_ids, GREEDY_NEW_TOKENS)
            if len(set(greedy_ids[0, 5:].tolist())) >= MIN_DISTINCT_NEW and \
                    min(top2_margin(row) for row in step_logits) >= MIN_GREEDY_MARGIN:
                break
        else:
            raise AssertionError(f"no prompt in {PROMPT_TRIES} draws decodes to {MIN_DISTINCT_NEW} distinct tokens")
    print(f"  gpt2 prompt: draw {attempt + 1} of up to {PROMPT_TRIES}")

    # Self-check: the same outputs from torch.nn.TransformerEncoderLayer in float64.
    w64 = as_float64(weights)
    with torch.no_grad():
        check_close("gpt2 logits", logits, gpt2_torch_nn_logits(w64, cfg, input_ids))
        ids64, steps64 = greedy_decode(lambda ids: gpt2_torch_nn_logits(w64, cfg, ids), prompt_ids, GREEDY_NEW_TOKENS)
    if not torch.equal(ids64, greedy_ids):
        raise AssertionError(f"self-check gpt2 greedy: float64 decodes {ids64.tolist()}, float32 {greedy_ids.tolist()}")
    check_close("gpt2 step_logits", step_logits, steps64)
    margin = min(top2_margin(row) for row in step_logits)
    if margin < MIN_GREEDY_MARGIN:
        raise AssertionError(f"self-check gpt2 greedy: a step's top-2 margin {margin:.3g} < {MIN_GREEDY_MARGIN}")
    print(f"  self-check gpt2 greedy: same tokens in float64; smallest top-1/top-2 margin {margin:.4f}")
    if any(argmax_lowest(row) != int(tok) for row, tok in zip(step_logits, greedy_ids[0, 5:])):
        raise AssertionError("self-check gpt2 greedy: step_logits do not select greedy_ids")

    # The original OpenAI layout: no "transformer." prefix, plus the causal-mask buffers.
    legacy = {k[len("transformer."):]: v for k, v in weights.items()}
    p = cfg.n_positions
    for i in range(cfg.n_layer):
        legacy[f"h.{i}.attn.bias"] = torch.tril(torch.ones(p, p)).view(1, 1, p, p)
        legacy[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    stripped = {"transformer." + k: v for k, v in legacy.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))}
    with torch.no_grad():
        if not torch.equal(load(Gpt2LMHeadModel(cfg), stripped)(input_ids), logits):
            raise AssertionError("self-check gpt2 legacy: the legacy weights give other logits")

    golden = {"input_ids": input_ids, "logits": logits, "prompt_ids": prompt_ids, "greedy_ids": greedy_ids,
              "step_logits": step_logits}
    return weights, legacy, golden


def encoder_inputs(generator, vocab_size, pad_id, bos_eos=None):
    """input_ids [2, 8] with the second row ending in 3 padding tokens, and attention_mask [2, 8].
    Real tokens avoid pad_id (and the bos/eos ids, which frame each RoBERTa row)."""
    special = {pad_id} | set(bos_eos or ())
    allowed = torch.tensor([t for t in range(vocab_size) if t not in special])
    input_ids = allowed[torch.randint(0, len(allowed), (2, 8), generator=generator)]
    if bos_eos:
        bos, eos = bos_eos
        input_ids[:, 0] = bos
        input_ids[0, 7] = eos
        input_ids[1, 4] = eos
    input_ids[1, 5:] = pad_id
    return input_ids, (input_ids != pad_id).long()


def make_encoder(config, prefix, seed, bos_eos=None):
    """Returns (weights, golden) for bert-tiny or roberta-tiny, self-checked."""
    cfg = bert_shape(config)
    weights = draw_weights(Prefixed(prefix, BertModel(cfg)), torch.Generator().manual_seed(seed))
    model = load(Prefixed(prefix, BertModel(cfg)), weights)
    input_ids, attention_mask = encoder_inputs(torch.Generator().manual_seed(seed + 1), cfg.vocab_size,
                                               cfg.pad_token_id, bos_eos)
    with torch.no_grad():
        hidden, pooled = model(input_ids, attention_mask)
        hidden64, pooled64 = bert_torch_nn_forward(as_float64(weights), cfg, input_ids, attention_mask, prefix + ".")
    check_close(f"{prefix} last_hidden_state", hidden, hidden64)
    check_close(f"{prefix} pooler_output", pooled, pooled64)
    golden = {"input_ids": input_ids, "attention_mask": attention_mask, "last_hidden_state": hidden,
              "pooler_output": pooled}
    return weights, golden


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")  # transformers ends config.json with \n


def write_checked(path, tensors):
    """Writes a safetensors file and reads it back: names, dtypes and values must survive exactly."""
    write_safetensors(path, tensors)
    back = read_safetensors(path)
    if back.keys() != tensors.keys() or any(
            back[k].dtype != v.dtype or not torch.equal(back[k], v) for k, v in tensors.items()):
        raise AssertionError(f"self-check: {path} does not read back as written")


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    torch.set_num_threads(1)  # one thread: the same summation order on every run

    print("self-checks:")
    gpt2, gpt2_legacy, gpt2_golden = make_gpt2(seed=16)
    bert, bert_golden = make_encoder(BERT_CONFIG, "bert", seed=20)
    roberta, roberta_golden = make_encoder(ROBERTA_CONFIG, "roberta", seed=30, bos_eos=(0, 2))

    folders = [("gpt2-tiny", GPT2_CONFIG, gpt2, gpt2_golden), ("gpt2-tiny-legacy", GPT2_CONFIG, gpt2_legacy, None),
               ("bert-tiny", BERT_CONFIG, bert, bert_golden), ("roberta-tiny", ROBERTA_CONFIG, roberta, roberta_golden)]
    for name, config, weights, golden in folders:
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, "config.json"), config)
        write_checked(os.path.join(folder, "model.safetensors"), weights)
        if golden is not None:
            write_checked(os.path.join(folder, "golden.safetensors"), golden)

    print(f"wrote fixtures to {out_dir}")
    for name, _, weights, golden in folders:
        count = sum(v.numel() for k, v in weights.items() if not k.endswith((".attn.bias", ".attn.masked_bias")))
        print(f"  {name}: {len(weights)} tensors, {count} parameters")
        for key, tensor in (golden or {}).items():
            extra = f"values {tensor.tolist()}" if tensor.dtype == torch.int64 and tensor.numel() <= 16 else \
                f"max |value| {tensor.abs().max().item():.4f}" if tensor.is_floating_point() else ""
            print(f"    {key:18s} {str(tensor.dtype)[6:]:8s} shape {list(tensor.shape)}  {extra}")
    print("  gpt2 input_ids", gpt2_golden["input_ids"].tolist())
    print("  bert input_ids", bert_golden["input_ids"].tolist())
    print("  roberta input_ids", roberta_golden["input_ids"].tolist())


if __name__ == "__main__":
    main()
