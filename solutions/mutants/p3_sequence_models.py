"""Plausible wrong solutions for the sequence models notebook; each must make its tests cell fail.

Every mutant is the notebook's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once). ``why`` is shown to a student whose results match it.
The first mutant is "the student with one mistake": no later tests cell uses sample_next.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "p3_sequence_models.py")

CAUSAL_MASK = [
    edit("causal_mask", "keeps the upper triangle (triu): every position sees the future and not the past",
         (".tril()", ".triu()")),
    edit("causal_mask", "leaves out the diagonal (tril(-1)): a position may not attend to itself",
         (".tril()", ".tril(-1)"), kind="edge"),
    edit("causal_mask", "returns a float mask of 0s and 1s instead of booleans",
         ("torch.ones(T, T, dtype=torch.bool, device=device).tril()", "torch.ones(T, T, device=device).tril()"),
         kind="dtype"),
]

ATTENTION = [
    edit("attention", "scales the scores by sqrt(d_model) instead of sqrt(head dimension)",
         ("/ math.sqrt(C // H)", "/ math.sqrt(C)")),
    edit("attention", "applies the softmax over the queries (dim=-2) instead of the keys (dim=-1)",
         ("weights = torch.softmax(scores, dim=-1)", "weights = torch.softmax(scores, dim=-2)")),
    edit("attention", "forgets the causal mask: every position sees the future",
         ("        scores = scores.masked_fill(~causal_mask(T, x.device), float(\"-inf\"))\n", ""), kind="ignored"),
    edit("attention", "splits the heads with a reshape to (B, H, T, d) instead of view(B, T, H, d).transpose(1, 2)",
         ("(t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))", "(t.reshape(B, H, T, C // H) for t in (q, k, v))"),
         kind="order"),
    edit("attention", "merges the heads with a reshape but without transposing them back first",
         ("out = (weights @ v).transpose(1, 2).reshape(B, T, C)", "out = (weights @ v).reshape(B, T, C)"),
         kind="order"),
]

BLOCK = [
    edit("block", "puts the layer norms after the residual additions (post-norm) instead of before the sub-layers",
         ("        x = x + self.attn(self.ln1(x))\n        return x + self.mlp(self.ln2(x))",
          "        x = self.ln1(x + self.attn(x))\n        return self.ln2(x + self.mlp(x))")),
    edit("block", "forgets the residual connection around the attention",
         ("x = x + self.attn(self.ln1(x))", "x = self.attn(self.ln1(x))")),
    edit("block", "uses ln1 in front of the MLP too (ln2 is never used)",
         ("return x + self.mlp(self.ln2(x))", "return x + self.mlp(self.ln1(x))")),
    edit("block", "feeds the MLP the block's input instead of the output of the attention step",
         ("        x = x + self.attn(self.ln1(x))\n        return x + self.mlp(self.ln2(x))",
          "        return x + self.attn(self.ln1(x)) + self.mlp(self.ln2(x))")),
]

GPT = [
    edit("gpt", "forgets the position embedding",
         ("x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device))", "x = self.tok_emb(idx)"),
         kind="ignored"),
    edit("gpt", "forgets the final layer norm ln_f", ("logits = self.head(self.ln_f(x))", "logits = self.head(x)"),
         kind="ignored"),
    edit("gpt", "shifts the targets again inside the model (get_batch already did): logits[:, :-1] against targets[:, 1:]",
         ("loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))",
          "loss = F.cross_entropy(logits[:, :-1].reshape(B * (T - 1), -1), targets[:, 1:].reshape(B * (T - 1)))")),
    edit("gpt", "applies only the last block (x = block(x) must feed each block the previous one's output)",
         ("        for block in self.blocks:\n            x = block(x)\n",
          "        h = x\n        for block in self.blocks:\n            x = block(h)\n")),
]

GET_BATCH = [
    edit("get_batch", "returns targets that are not shifted (y = x): the model learns to copy its input",
         ("return data[idx], data[idx + 1]", "return data[idx], data[idx]")),
    edit("get_batch", "lets a window start at N - T, where its targets run past the end of data",
         ("torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)",
          "torch.randint(0, len(data) - block_size + 1, (batch_size,), generator=generator)"), kind="edge"),
    edit("get_batch", "never draws the last possible start (an off-by-one in the upper bound)",
         ("torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)",
          "torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=generator)"), kind="edge"),
    edit("get_batch", "draws the starts from torch's global generator instead of generator",
         ("torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)",
          "torch.randint(0, len(data) - block_size, (batch_size,))"), kind="rng"),
]

SAMPLE_NEXT = [
    edit("sample_next", "multiplies the logits by the temperature instead of dividing",
         ("logits = logits / temperature", "logits = logits * temperature")),
    edit("sample_next", "takes the k-th *smallest* logit as the threshold (ascending sort): keeps the wrong tokens",
         ("kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]",
          "kth = torch.sort(logits, dim=-1).values[:, min(top_k, logits.shape[-1]) - 1:min(top_k, logits.shape[-1])]")),
    edit("sample_next", "ignores top_k", ("    if top_k is not None:\n        kth", "    if False:\n        kth"),
         kind="ignored"),
    edit("sample_next", "draws from torch's global generator instead of generator",
         ("torch.multinomial(probs, 1, generator=generator)", "torch.multinomial(probs, 1)"), kind="rng"),
    edit("sample_next", "is greedy at every temperature (argmax instead of a draw)",
         ("return torch.multinomial(probs, 1, generator=generator).squeeze(-1)", "return probs.argmax(dim=-1)"),
         kind="ignored"),
]

MUTANTS: list[Mutant] = [*SAMPLE_NEXT, *CAUSAL_MASK, *ATTENTION, *BLOCK, *GPT, *GET_BATCH]
