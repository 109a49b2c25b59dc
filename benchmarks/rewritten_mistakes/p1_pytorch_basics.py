"""Known mistakes of p1_pytorch_basics, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "pairwise", "fails": "test_pairwise",
     "mutant": "sums the differences instead of their squares",
     "source": '''def pairwise_sq_dists(X, Y):
    sx = X.sum(dim=1)
    sy = Y.sum(dim=1)
    d = sx.unsqueeze(1) - sy.unsqueeze(0)
    return d * d
'''},
    {"cell": "autograd_mlp", "fails": "test_autograd_mlp",
     "mutant": "sums the loss over the batch instead of averaging it (reduction='sum')",
     "source": '''def autograd_mlp_grads(x, y, params):
    names = ["W1", "b1", "W2", "b2"]
    tensors = [torch.from_numpy(np.array(params[n], dtype=np.float64)).requires_grad_(True) for n in names]
    W1, b1, W2, b2 = tensors
    X = torch.from_numpy(np.array(x, dtype=np.float64))
    labels = torch.as_tensor(np.asarray(y), dtype=torch.long)
    h = torch.clamp(torch.addmm(b1, X, W1), min=0.0)
    logits = torch.addmm(b2, h, W2)
    logp = torch.log_softmax(logits, dim=1)
    nll = -logp.gather(1, labels[:, None]).squeeze(1)
    loss = nll.sum()
    gs = torch.autograd.grad(loss, tensors)
    return float(loss.detach()), {n: g.detach().numpy() for n, g in zip(names, gs)}
'''},
    {"cell": "training_loop", "fails": "test_training_loop",
     "mutant": "averages the batch means: the last, smaller batch counts as much as a full one",
     "source": '''def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    batch_losses = []
    for inputs, targets in loader:
        inputs = inputs.to(device)
        targets = targets.to(device)
        optimizer.zero_grad()
        out = model(inputs)
        loss = loss_fn(out, targets)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return float(sum(batch_losses) / len(batch_losses))


def evaluate(model, loader, loss_fn, device):
    model.eval()
    loss_sum, hits, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            out = model(inputs)
            n = targets.shape[0]
            loss_sum += float(loss_fn(out, targets)) * n
            hits += int((out.argmax(1) == targets).sum())
            seen += n
    return loss_sum / seen, hits / seen
'''},
]

FIXES = {0: ("    d = sx.unsqueeze(1) - sy.unsqueeze(0)\n    return d * d\n",
             "    d = X.unsqueeze(1) - Y.unsqueeze(0)\n    return (d * d).sum(-1)\n"),
         1: ("loss = nll.sum()", "loss = nll.mean()"),
         2: [("    batch_losses = []\n", "    batch_losses, sizes = [], []\n"),
             ("        batch_losses.append(loss.item())\n",
              "        batch_losses.append(loss.item() * len(targets))\n        sizes.append(len(targets))\n"),
             ("    return float(sum(batch_losses) / len(batch_losses))", "    return float(sum(batch_losses) / sum(sizes))")]}
