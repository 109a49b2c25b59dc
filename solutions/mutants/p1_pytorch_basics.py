"""Plausible wrong solutions for the PyTorch basics notebook; each must make its tests cell fail.

Every mutant is the notebook's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once). ``why`` is shown to a student whose results match it.
The first mutant is "the student with one mistake": nothing after its cell uses its function.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "p1_pytorch_basics.py")

PAIRWISE = [
    edit("pairwise", "returns the distances, not their squares (a square root too many)",
         ("return (diff**2).sum(dim=-1)", "return (diff**2).sum(dim=-1).sqrt()")),
    edit("pairwise", "sums the differences instead of their squares",
         ("return (diff**2).sum(dim=-1)", "return diff.sum(dim=-1) ** 2")),
    edit("pairwise", "sums over the wrong dimension (dim=0, the rows of X, instead of the features)",
         ("return (diff**2).sum(dim=-1)", "return (diff**2).sum(dim=0)"), kind="order"),
    edit("pairwise", "expands the square without the factor 2: ||x||^2 - x.y + ||y||^2",
         ("    diff = X[:, None, :] - Y[None, :, :]\n    return (diff**2).sum(dim=-1)",
          "    return (X**2).sum(1)[:, None] - X @ Y.T + (Y**2).sum(1)[None, :]")),
    edit("pairwise", "subtracts the other way round (Y[:, None] - X[None]): the result is (M, N), transposed",
         ("diff = X[:, None, :] - Y[None, :, :]", "diff = Y[:, None, :] - X[None, :, :]"), kind="order"),
]

AUTOGRAD_MLP = [
    edit("autograd_mlp", "sums the loss over the batch instead of averaging it (reduction='sum')",
         ("loss = F.cross_entropy(scores, yt)", "loss = F.cross_entropy(scores, yt, reduction='sum')")),
    edit("autograd_mlp", "forgets the ReLU between the two layers",
         ('hidden = torch.relu(xt @ leaves["W1"] + leaves["b1"])', 'hidden = xt @ leaves["W1"] + leaves["b1"]'),
         kind="ignored"),
    edit("autograd_mlp", "computes in float32 (torch's default): keep float64 to compare digits",
         ('leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}\n'
          '    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.int64)',
          'leaves = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in params.items()}\n'
          '    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)'), kind="dtype"),
    edit("autograd_mlp", "applies softmax before F.cross_entropy, which applies (log-)softmax itself",
         ("loss = F.cross_entropy(scores, yt)", "loss = F.cross_entropy(torch.softmax(scores, dim=1), yt)")),
    edit("autograd_mlp", "calls backward twice (once to look at the loss), so the gradients are doubled",
         ("    loss.backward()\n    return loss.item()",
          "    loss.backward(retain_graph=True)\n    loss.backward()\n    return loss.item()"), kind="graph"),
]

MLP_MODULE = [
    edit("mlp_module", "keeps the layers in a plain Python list: PyTorch does not see their parameters",
         ("        self.net = nn.Sequential(*layers)\n", "        self.layers = layers\n"),
         ("        return self.net(x.flatten(1))\n",
          "        x = x.flatten(1)\n        for layer in self.layers:\n            x = layer(x)\n        return x\n")),
    edit("mlp_module", "puts the activation after the last layer too (the logits can no longer be negative)",
         ("            if i < len(sizes) - 2:\n                layers.append(activation())",
          "            layers.append(activation())\n            if i < len(sizes) - 2:"), kind="edge"),
    edit("mlp_module", "creates the Linear layers without bias",
         ("layers.append(nn.Linear(d_in, d_out))", "layers.append(nn.Linear(d_in, d_out, bias=False))")),
    edit("mlp_module", "ignores the activation argument (always ReLU)",
         ("                layers.append(activation())", "                layers.append(nn.ReLU())"), kind="ignored"),
    edit("mlp_module", "ignores dropout", ("                if dropout > 0:\n                    layers.append(nn.Dropout(dropout))\n",
                                          ""), kind="ignored"),
]

IMAGE_DATASET = [
    edit("image_dataset", "forgets to divide by 255 (values 0 to 255 instead of 0 to 1)",
         ("image = torch.from_numpy(self.images[i]).to(torch.float32) / 255.0",
          "image = torch.from_numpy(self.images[i]).to(torch.float32)")),
    edit("image_dataset", "keeps colour images channels-last (H, W, C) instead of (C, H, W)",
         ("image = image[None] if image.ndim == 2 else image.permute(2, 0, 1)",
          "image = image[None] if image.ndim == 2 else image"), kind="order"),
    edit("image_dataset", "reshapes colour images to (C, H, W) instead of permuting: the pixels are scrambled",
         ("image = image[None] if image.ndim == 2 else image.permute(2, 0, 1)",
          "image = image[None] if image.ndim == 2 else image.reshape(image.shape[2], image.shape[0], image.shape[1])"),
         kind="order"),
    edit("image_dataset", "ignores the transform", ("        if self.transform is not None:\n            image = self.transform(image)\n",
                                                   ""), kind="ignored"),
    edit("image_dataset", "returns the label as a float tensor (cross-entropy needs int64 classes)",
         ("return image, torch.tensor(self.labels[i], dtype=torch.int64)",
          "return image, torch.tensor(self.labels[i], dtype=torch.float32)"), kind="dtype"),
    edit("image_dataset", "gives grey images no channel dimension (H, W) instead of (1, H, W)",
         ("image = image[None] if image.ndim == 2 else image.permute(2, 0, 1)",
          "image = image if image.ndim == 2 else image.permute(2, 0, 1)"), kind="edge"),
]

TRAINING_LOOP = [
    # train_one_epoch
    edit("training_loop", "never zeroes the gradients: every step adds to all the previous ones",
         ("        optimizer.zero_grad()\n        loss.backward()\n        optimizer.step()\n        total += loss.item() * len(y)",
          "        loss.backward()\n        optimizer.step()\n        total += loss.item() * len(y)"), kind="graph"),
    edit("training_loop", "does not switch to training mode (model.train()), so dropout stays off after an evaluation",
         ("    model.train()\n", ""), kind="ignored"),
    edit("training_loop", "averages the batch means: the last, smaller batch counts as much as a full one",
         ("        total += loss.item() * len(y)\n        count += len(y)\n    return total / count",
          "        total += loss.item()\n        count += 1\n    return total / count")),
    edit("training_loop", "multiplies each batch's loss by its size before backward: the steps grow with the batch",
         ("        loss = loss_fn(model(x), y)\n", "        loss = loss_fn(model(x), y) * len(y)\n"),
         ("        total += loss.item() * len(y)", "        total += loss.item()")),
    # evaluate
    edit("training_loop", "evaluates in training mode (no model.eval()): dropout is still on",
         ("    model.eval()\n    total, correct, count = 0.0, 0, 0\n", "    total, correct, count = 0.0, 0, 0\n"),
         kind="ignored"),
    edit("training_loop", "evaluates without torch.no_grad(): autograd records every batch for nothing",
         ("    with torch.no_grad():\n        for x, y in loader:\n            x, y = x.to(device), y.to(device)\n"
          "            logits = model(x)\n            total += loss_fn(logits, y).item() * len(y)\n"
          "            correct += (logits.argmax(dim=1) == y).sum().item()\n            count += len(y)\n",
          "    for x, y in loader:\n        x, y = x.to(device), y.to(device)\n"
          "        logits = model(x)\n        total += loss_fn(logits, y).item() * len(y)\n"
          "        correct += (logits.argmax(dim=1) == y).sum().item()\n        count += len(y)\n"), kind="graph"),
    edit("training_loop", "averages the batches' accuracies: the last, smaller batch counts as much as a full one",
         ("            correct += (logits.argmax(dim=1) == y).sum().item()",
          "            correct += (logits.argmax(dim=1) == y).double().mean().item()"),
         ("    return total / count, correct / count", "    return total / count, correct / len(loader)")),
    edit("training_loop", "evaluate averages the batch losses instead of weighting them by batch size",
         ("            total += loss_fn(logits, y).item() * len(y)", "            total += loss_fn(logits, y).item()"),
         ("    return total / count, correct / count", "    return total / len(loader), correct / count")),
]

MUTANTS: list[Mutant] = [*PAIRWISE, *AUTOGRAD_MLP, *MLP_MODULE, *IMAGE_DATASET, *TRAINING_LOOP]
