"""The sequence-models notebook's GPT in its full configuration: throughput, MFU, validation loss.

Usage (from the repository root)::

    python benchmarks/gpt_char.py            # CUDA: full configuration (6 layers, 6 heads, 384 wide,
                                             # context 256, batch 64), eager then torch.compile
    python benchmarks/gpt_char.py --smoke    # CPU, a tiny model, a few steps: checks the script runs
    python benchmarks/gpt_char.py --mfu      # CUDA: a GPT-2-small shape (12 x 768, context 1024, batch 16)
                                             # with fused attention: how far MFU goes when the GPU is kept busy

The model is the notebook's (solutions/p3_sequence_models.py): pre-norm blocks, causal multi-head
attention written with matrix products and a mask (not the fused kernel; ``--sdpa`` uses
F.scaled_dot_product_attention instead, for comparison), learned positions, tied head. Training
uses AdamW, warm-up and cosine decay, clipping and bf16 autocast, on the shipped tiny-shakespeare.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.data import load_text  # noqa: E402

PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12,
             "A10": 125e12, "RTX 4090": 165e12, "RTX 3090": 71e12, "T4": 65e12, "V100": 125e12}


class Attention(nn.Module):
    def __init__(self, d_model, n_heads, sdpa):
        super().__init__()
        self.n_heads, self.sdpa = n_heads, sdpa
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        H = self.n_heads
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in self.qkv(x).split(C, dim=-1))
        if self.sdpa:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            scores = (q @ k.transpose(-2, -1) / math.sqrt(C // H)).masked_fill(~mask, float("-inf"))
            out = torch.softmax(scores, dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, d_model, n_heads, sdpa):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, sdpa)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, context, d_model, n_heads, n_layers, sdpa=False):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads, sdpa) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Linear | nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        self.head.weight = self.tok_emb.weight

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())


def get_batch(data, T, B, generator, device):
    starts = torch.randint(0, len(data) - T, (B,), generator=generator)
    idx = starts[:, None] + torch.arange(T)
    return data[idx].to(device, non_blocking=True), data[idx + 1].to(device, non_blocking=True)


def autocast(device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def train(model, step_fn, opt, data, cfg, device, steps, lr, warmup, generator, label):
    """Run steps; return tokens/s measured after the first warmup_timing steps, and the last loss."""
    skip = min(10, steps // 2)
    start = None
    for i in range(steps):
        if i == skip:
            sync(device)
            start = time.perf_counter()
        factor = (i + 1) / warmup if i < warmup else 0.1 + 0.45 * (1 + math.cos(math.pi * (i - warmup) / max(1, steps - warmup)))
        for group in opt.param_groups:
            group["lr"] = lr * factor
        x, y = get_batch(data, cfg["context"], cfg["batch"], generator, device)
        with autocast(device):
            loss = step_fn(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    sync(device)
    seconds = time.perf_counter() - start
    tokens_per_s = (steps - skip) * cfg["batch"] * cfg["context"] / seconds
    print(f"  {label}: {steps} steps, {tokens_per_s:,.0f} tokens/s ({(steps - skip) / seconds:.1f} steps/s), "
          f"last training loss {loss.item() / math.log(2):.3f} bits/char", flush=True)
    return tokens_per_s


@torch.no_grad()
def validation_bits(model, data, cfg, device, batches=40):
    model.eval()
    g = torch.Generator().manual_seed(1234)
    total = 0.0
    for _ in range(batches):
        x, y = get_batch(data, cfg["context"], cfg["batch"], g, device)
        with autocast(device):
            total += model(x, y).item()
    model.train()
    return total / batches / math.log(2)


def make_optimizer(model, lr):
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "emb" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "emb" not in n)]
    fused = next(model.parameters()).is_cuda
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.99), fused=fused)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny model on the CPU, a few steps")
    parser.add_argument("--steps", type=int, default=1500, help="training steps of the eager run (val loss)")
    parser.add_argument("--compile-steps", type=int, default=200, help="timed steps of the compiled model")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--sdpa", action="store_true", help="fused attention instead of the notebook's")
    parser.add_argument("--mfu", action="store_true",
                        help="GPT-2-small shape, fused attention, 200 eager steps: the throughput a larger model reaches")
    args = parser.parse_args()

    if args.smoke:
        device = torch.device("cpu")
        cfg = {"context": 32, "batch": 8, "d_model": 32, "n_heads": 2, "n_layers": 2, "lr": 3e-3}
        steps, compile_steps, do_compile = 20, 0, False
    else:
        if not torch.cuda.is_available():
            sys.exit("no GPU: run with --smoke on a CPU")
        device = torch.device("cuda")
        torch.backends.cuda.matmul.allow_tf32 = True
        cfg = {"context": 256, "batch": 64, "d_model": 384, "n_heads": 6, "n_layers": 6, "lr": 1e-3}
        steps, compile_steps, do_compile = args.steps, args.compile_steps, not args.no_compile
        if args.mfu:  # the notebook's model is small: a GPU waits on launches more than it computes
            cfg = {"context": 1024, "batch": 16, "d_model": 768, "n_heads": 12, "n_layers": 12, "lr": 6e-4}
            steps, args.sdpa = 200, True

    text = load_text("tinyshakespeare")
    chars = sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([lookup[c] for c in text], dtype=torch.int64)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = next((p for key, p in PEAK_BF16.items() if key in name), None) if device.type == "cuda" else None
    print(f"PyTorch {torch.__version__} on {name}; config {cfg}; attention: {'SDPA' if args.sdpa else 'notebook (masked matmul)'}")

    torch.manual_seed(0)
    model = GPT(len(chars), cfg["context"], cfg["d_model"], cfg["n_heads"], cfg["n_layers"], sdpa=args.sdpa).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    flops_per_token = 6 * n_params + 12 * cfg["n_layers"] * cfg["context"] * cfg["d_model"]
    print(f"{n_params:,} parameters; {flops_per_token / 1e6:.1f} MFLOP per token (6N + attention)")

    def report(label, tokens_per_s):
        mfu = f", MFU {flops_per_token * tokens_per_s / peak:.1%} of {peak / 1e12:.0f} TFLOP/s" if peak else ""
        print(f"{label}: {tokens_per_s:,.0f} tokens/s, {flops_per_token * tokens_per_s / 1e12:.2f} TFLOP/s{mfu}")

    opt = make_optimizer(model, cfg["lr"])
    g = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    eager = train(model, model, opt, train_data, cfg, device, steps, cfg["lr"], max(1, steps // 20), g, "eager")
    wall = time.perf_counter() - started
    bits = validation_bits(model, val_data, cfg, device, batches=40 if not args.smoke else 4)
    report("eager", eager)
    print(f"validation after {steps} eager steps ({wall:.0f} s): {bits:.3f} bits/char "
          f"({bits * math.log(2):.3f} nats; nanoGPT's shakespeare-char reaches about 1.47 nats after 5000 steps)")
    if device.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")

    if do_compile and compile_steps > 0:
        compiled = torch.compile(model)
        t0 = time.perf_counter()
        x, y = get_batch(train_data, cfg["context"], cfg["batch"], g, device)
        with autocast(device):
            compiled(x, y).backward()
        sync(device)
        print(f"torch.compile: first step (compilation) {time.perf_counter() - t0:.0f} s")
        fast = train(model, compiled, opt, train_data, cfg, device, compile_steps, cfg["lr"] * 0.1, 1, g, "compiled")
        report("torch.compile", fast)
        print(f"compiled / eager throughput: {fast / eager:.2f}x")
    else:
        print("torch.compile skipped" + (" (--smoke)" if args.smoke else ""))


if __name__ == "__main__":
    main()
