"""Reference text models for the golden fixtures: GPT-2 and BERT/RoBERTa written from scratch in plain
torch, nanoGPT-style, with module attributes named so that state_dict() keys are exactly the Hugging
Face names (`transformer.h.0.attn.c_attn.weight`, `bert.encoder.layer.0.attention.self.query.weight`,
...). A second, independent forward for each family is built from torch.nn.TransformerEncoderLayer
(its own multi-head attention, GELU and LayerNorm kernels), used by the self-check in float64.

Architectures follow transformers' modeling_gpt2.py, modeling_bert.py and modeling_roberta.py (eval
mode, dropout 0, absolute position embeddings, no KV cache). Only torch is needed.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# GPT-2 (GPT2LMHeadModel)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gpt2Config:
    vocab_size: int
    n_positions: int
    n_embd: int
    n_layer: int
    n_head: int
    layer_norm_epsilon: float


def gelu_new(x):
    """GPT-2's "gelu_new": the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear layer whose weight is stored [in, out]; y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Gpt2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, hd).transpose(1, 2) for z in (q, k, v))  # [b, heads, t, hd]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        att = torch.where(causal, att, torch.tensor(torch.finfo(att.dtype).min, dtype=att.dtype))
        y = torch.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, t, d))


class Gpt2Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Gpt2Block(nn.Module):
    """Pre-LN: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Gpt2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = Gpt2Mlp(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Gpt2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList(Gpt2Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)

    def forward(self, input_ids):
        positions = torch.arange(input_ids.shape[1])
        x = self.wte(input_ids) + self.wpe(positions)
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class Gpt2LMHeadModel(nn.Module):
    """state_dict() keys: transformer.wte.weight, transformer.h.{i}.attn.c_attn.weight, ...; the LM
    head is tied to wte (logits = ln_f(h) @ wte.T), so there is no lm_head.weight."""

    def __init__(self, cfg):
        super().__init__()
        self.transformer = Gpt2Model(cfg)

    def forward(self, input_ids):
        return self.transformer(input_ids) @ self.transformer.wte.weight.T


def argmax_lowest(row):
    """Index of the largest value of a 1-D tensor; ties go to the lowest index."""
    return int((row == row.max()).nonzero()[0, 0])


def greedy_decode(logits_fn, prompt_ids, new_tokens):
    """Greedy decoding of one sequence [1, n] with full recomputation at every step (no cache).
    Returns (ids [1, n + new_tokens], step_logits [new_tokens, vocab]: the last-position logits each
    step's argmax was taken over)."""
    ids, steps = prompt_ids, []
    for _ in range(new_tokens):
        last = logits_fn(ids)[0, -1]
        steps.append(last)
        ids = torch.cat([ids, torch.tensor([[argmax_lowest(last)]], dtype=ids.dtype)], dim=1)
    return ids, torch.stack(steps)


def gpt2_torch_nn_logits(weights, cfg, input_ids, prefix="transformer."):
    """Second GPT-2 forward: torch.nn.TransformerEncoderLayer(norm_first=True) blocks holding the
    Conv1D weights transposed, a boolean causal src_mask, F.gelu(approximate="tanh"); in the dtype of
    `weights`. Only for the self-check."""
    w = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    dtype, d = w["wte.weight"].dtype, cfg.n_embd
    t = input_ids.shape[1]
    x = w["wte.weight"][input_ids] + w["wpe.weight"][:t]
    future = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True = may not attend
    for i in range(cfg.n_layer):
        p = f"h.{i}."
        layer = nn.TransformerEncoderLayer(d, cfg.n_head, dim_feedforward=4 * d, dropout=0.0,
                                           activation=lambda z: F.gelu(z, approximate="tanh"),
                                           layer_norm_eps=cfg.layer_norm_epsilon, batch_first=True,
                                           norm_first=True, dtype=dtype)
        layer.load_state_dict({
            "self_attn.in_proj_weight": w[p + "attn.c_attn.weight"].T, "self_attn.in_proj_bias": w[p + "attn.c_attn.bias"],
            "self_attn.out_proj.weight": w[p + "attn.c_proj.weight"].T, "self_attn.out_proj.bias": w[p + "attn.c_proj.bias"],
            "linear1.weight": w[p + "mlp.c_fc.weight"].T, "linear1.bias": w[p + "mlp.c_fc.bias"],
            "linear2.weight": w[p + "mlp.c_proj.weight"].T, "linear2.bias": w[p + "mlp.c_proj.bias"],
            "norm1.weight": w[p + "ln_1.weight"], "norm1.bias": w[p + "ln_1.bias"],
            "norm2.weight": w[p + "ln_2.weight"], "norm2.bias": w[p + "ln_2.bias"],
        }, strict=True)
        x = layer.eval()(x, src_mask=future)
    x = F.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], cfg.layer_norm_epsilon)
    return F.linear(x, w["wte.weight"])


# ---------------------------------------------------------------------------------------------
# BERT / RoBERTa (BertModel, RobertaModel)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    pad_token_id: int
    roberta_positions: bool  # RoBERTa: position ids from the input ids, counting from pad_token_id + 1


def gelu_erf(x):
    """BERT's "gelu": the exact x·Φ(x) = 0.5·x·(1 + erf(x/√2))."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def roberta_position_ids(input_ids, padding_idx):
    """transformers' create_position_ids_from_input_ids: real tokens count up from padding_idx + 1,
    padding tokens get padding_idx."""
    mask = (input_ids != padding_idx).long()
    return torch.cumsum(mask, dim=1) * mask + padding_idx


class BertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, input_ids):
        if self.cfg.roberta_positions:
            positions = roberta_position_ids(input_ids, self.cfg.pad_token_id)
        else:
            positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        token_types = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_types) + self.position_embeddings(positions)
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x, additive_mask):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = (m(x).view(b, t, self.n_head, hd).transpose(1, 2) for m in (self.query, self.key, self.value))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd) + additive_mask
        y = torch.softmax(att, dim=-1) @ v
        return y.transpose(1, 2).reshape(b, t, d)


class BertSelfOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dense(hidden) + residual)


class BertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x):
        return gelu_erf(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dense(hidden) + residual)


class BertLayer(nn.Module):
    """Post-LN: a = LN(x + attn(x)), then LN(a + ffn(a))."""

    def __init__(self, cfg):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, x, additive_mask):
        a = self.attention(x, additive_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.num_hidden_layers))


class BertPooler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pooler = BertPooler(cfg)

    def forward(self, input_ids, attention_mask):
        """Returns (last_hidden_state [b, t, d], pooler_output [b, d]). Masked keys get
        finfo(dtype).min added to their scores, as HF's extended attention mask does."""
        x = self.embeddings(input_ids)
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer:
            x = layer(x, additive)
        return x, self.pooler(x)


class Prefixed(nn.Module):
    """Holds a BertModel under the attribute `bert` or `roberta`, so its state_dict() keys carry
    the prefix BertForSequenceClassification / RobertaModel checkpoints use."""

    def __init__(self, prefix, model):
        super().__init__()
        self.prefix = prefix
        self.add_module(prefix, model)

    def forward(self, *args):
        return getattr(self, self.prefix)(*args)


def bert_torch_nn_forward(weights, cfg, input_ids, attention_mask, prefix):
    """Second BERT/RoBERTa forward: torch.nn.TransformerEncoderLayer(norm_first=False, "gelu") layers
    with a boolean src_key_padding_mask (sequence-first, which also keeps torch off its fused fast
    path); positions counted with a Python loop. In the dtype of `weights`; only for the self-check."""
    w = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    d = cfg.hidden_size
    rows = []
    for row in input_ids.tolist():
        if cfg.roberta_positions:
            count, positions = 0, []
            for token in row:
                if token == cfg.pad_token_id:
                    positions.append(cfg.pad_token_id)
                else:
                    count += 1
                    positions.append(cfg.pad_token_id + count)
        else:
            positions = list(range(len(row)))
        rows.append(positions)
    positions = torch.tensor(rows)
    e = "embeddings."
    x = w[e + "word_embeddings.weight"][input_ids] + w[e + "position_embeddings.weight"][positions] \
        + w[e + "token_type_embeddings.weight"][0]
    x = F.layer_norm(x, (d,), w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], cfg.layer_norm_eps)
    x = x.transpose(0, 1)  # [t, b, d]
    for i in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{i}."
        layer = nn.TransformerEncoderLayer(d, cfg.num_attention_heads, dim_feedforward=cfg.intermediate_size,
                                           dropout=0.0, activation="gelu", layer_norm_eps=cfg.layer_norm_eps,
                                           batch_first=False, norm_first=False, dtype=x.dtype)
        sa = p + "attention.self."
        layer.load_state_dict({
            "self_attn.in_proj_weight": torch.cat([w[sa + n + ".weight"] for n in ("query", "key", "value")]),
            "self_attn.in_proj_bias": torch.cat([w[sa + n + ".bias"] for n in ("query", "key", "value")]),
            "self_attn.out_proj.weight": w[p + "attention.output.dense.weight"],
            "self_attn.out_proj.bias": w[p + "attention.output.dense.bias"],
            "norm1.weight": w[p + "attention.output.LayerNorm.weight"], "norm1.bias": w[p + "attention.output.LayerNorm.bias"],
            "linear1.weight": w[p + "intermediate.dense.weight"], "linear1.bias": w[p + "intermediate.dense.bias"],
            "linear2.weight": w[p + "output.dense.weight"], "linear2.bias": w[p + "output.dense.bias"],
            "norm2.weight": w[p + "output.LayerNorm.weight"], "norm2.bias": w[p + "output.LayerNorm.bias"],
        }, strict=True)
        x = layer.eval()(x, src_key_padding_mask=attention_mask == 0)
    x = x.transpose(0, 1)
    return x, torch.tanh(F.linear(x[:, 0], w["pooler.dense.weight"], w["pooler.dense.bias"]))


# ---------------------------------------------------------------------------------------------
# Random weights
# ---------------------------------------------------------------------------------------------


def draw_weights(model, generator):
    """Random weights drawn in the model's parameter order, keyed by state_dict name:
    Linear/Conv1D weights N(0,1)/√fan_in (fan_in = dim 0 for GPT-2's [in, out] Conv1D, dim 1 for
    nn.Linear's [out, in]), biases 0.1·N, LayerNorm weight 1 + 0.1·N and bias 0.1·N, embeddings 0.5·N."""
    weights = {}
    modules = dict(model.named_modules())
    for name, param in model.named_parameters():
        module = modules[name.rsplit(".", 1)[0]]
        noise = torch.randn(param.shape, generator=generator)
        leaf = name.rsplit(".", 1)[1]
        if isinstance(module, nn.Embedding):
            weights[name] = 0.5 * noise
        elif isinstance(module, nn.LayerNorm):
            weights[name] = (1 + 0.1 * noise) if leaf == "weight" else 0.1 * noise
        elif isinstance(module, (nn.Linear, Conv1D)):
            if leaf == "bias":
                weights[name] = 0.1 * noise
            else:
                fan_in = param.shape[0] if isinstance(module, Conv1D) else param.shape[1]
                weights[name] = noise / math.sqrt(fan_in)
        else:
            raise ValueError(f"no rule to draw {name}")
    return weights


def load(model, weights):
    """Loads name -> tensor weights (strict) and returns the model in eval mode."""
    model.load_state_dict(weights, strict=True)
    return model.eval()
