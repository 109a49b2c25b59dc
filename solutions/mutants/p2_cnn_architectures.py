"""Plausible wrong solutions for the CNN-architectures notebook; each must make its tests cell fail.

Every mutant is the notebook's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once). ``why`` is shown to a student whose results match it.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "p2_cnn_architectures.py")

VGG = [
    # vgg_block first: the student with one mistake loses test_vgg only
    edit("vgg", "average pooling instead of max pooling",
         ("return nn.Sequential(*layers, nn.MaxPool2d(2))", "return nn.Sequential(*layers, nn.AvgPool2d(2))")),
    # conv_bn_relu
    edit("vgg", "the convolution keeps its bias (batch norm makes it redundant: bias=False)",
         ("padding=kernel_size // 2, bias=False)", "padding=kernel_size // 2)")),
    edit("vgg", "no padding: the convolution shrinks the image",
         ("padding=kernel_size // 2, bias=False)", "padding=0, bias=False)"), kind="edge"),
    edit("vgg", "padding 1 whatever the kernel size (only right for 3x3 kernels)",
         ("padding=kernel_size // 2, bias=False)", "padding=1, bias=False)"), kind="edge"),
    edit("vgg", "ReLU before batch norm (the order is conv, batch norm, ReLU)",
         ("        nn.BatchNorm2d(c_out),\n        nn.ReLU(inplace=True),\n",
          "        nn.ReLU(inplace=True),\n        nn.BatchNorm2d(c_out),\n"), kind="order"),
    edit("vgg", "forgets the ReLU", ("        nn.ReLU(inplace=True),\n", "")),
    edit("vgg", "ignores the stride", ("kernel_size, stride=stride, padding", "kernel_size, stride=1, padding"),
         kind="ignored"),
    # vgg_block
    edit("vgg", "forgets the max pooling at the end of the block",
         ("return nn.Sequential(*layers, nn.MaxPool2d(2))", "return nn.Sequential(*layers)")),
    edit("vgg", "one convolution too few (range(n_convs - 1))",
         ("for i in range(n_convs)]", "for i in range(max(1, n_convs - 1))]"), kind="edge"),
    edit("vgg", "max pooling with stride 1 (a 2x2 window must move by 2 to halve the size)",
         ("nn.MaxPool2d(2))", "nn.MaxPool2d(2, stride=1))")),
]

RESIDUAL = [
    edit("residual", "no ReLU after the addition",
         ("return F.relu(out + self.shortcut(x))", "return out + self.shortcut(x)")),
    edit("residual", "ReLU on the residual branch before the addition instead of after it",
         ("return F.relu(out + self.shortcut(x))", "return F.relu(out) + self.shortcut(x)"), kind="order"),
    edit("residual", "forgets the shortcut (a plain two-layer block)",
         ("return F.relu(out + self.shortcut(x))", "return F.relu(out)")),
    edit("residual", "the stride in the second convolution instead of the first",
         ("self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)",
          "self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)"),
         ("self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)",
          "self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=stride, padding=1, bias=False)")),
    edit("residual", "a 3x3 convolution in the projection shortcut (a 1x1 one is enough)",
         ("nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)", "nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)")),
    edit("residual", "no batch norm in the projection shortcut",
         ("nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))",
          "nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False))")),
    edit("residual", "a projection shortcut even when the shapes already match (the identity is free)",
         ("if stride != 1 or c_in != c_out:", "if True:")),
    edit("residual", "batch norm bn2 applied after the addition",
         ("out = self.bn2(self.conv2(out))\n        return F.relu(out + self.shortcut(x))",
          "out = self.conv2(out)\n        return F.relu(self.bn2(out + self.shortcut(x)))"), kind="order"),
    edit("residual", "the convolutions keep their biases (batch norm makes them redundant)",
         ("self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)",
          "self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)")),
    edit("residual", "the projection shortcut without the stride (shapes do not match for stride 2)",
         ("nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)", "nn.Conv2d(c_in, c_out, 1, bias=False)"),
         kind="ignored"),
]

INCEPTION = [
    edit("inception", "concatenates along the batch axis (dim=0) instead of the channels",
         ("for branch in branches], dim=1)", "for branch in branches], dim=0)")),
    edit("inception", "the branches concatenated in another order (3x3 first)",
         ("branches = [self.branch1, self.branch3, self.branch5, self.branch_pool]",
          "branches = [self.branch3, self.branch1, self.branch5, self.branch_pool]"), kind="order"),
    edit("inception", "the 5x5 branch uses a 3x3 convolution",
         ("conv_bn_relu(c5_reduce, c5, 5)", "conv_bn_relu(c5_reduce, c5, 3)")),
    edit("inception", "no 1x1 reduction before the 3x3 convolution",
         ("self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3))",
          "self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3, 3))")),
    edit("inception", "average pooling in the pool branch instead of max pooling",
         ("nn.MaxPool2d(3, stride=1, padding=1)", "nn.AvgPool2d(3, stride=1, padding=1)")),
    edit("inception", "the pool branch without its 1x1 projection (it keeps c_in channels)",
         ("self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn_relu(c_in, c_pool, 1))",
          "self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1))")),
    edit("inception", "adds the branches instead of concatenating them",
         ("return torch.cat([branch(x) for branch in branches], dim=1)",
          "return sum(branch(x) for branch in branches)")),
]

UNET = [
    # center_crop
    edit("unet", "crops the top-left corner instead of the centre",
         ("top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2",
          "top, left = 0, 0"), kind="edge"),
    edit("unet", "rounds the offset up: the extra row and column go at the top and left",
         ("top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2",
          "top, left = (x.shape[-2] - height + 1) // 2, (x.shape[-1] - width + 1) // 2"), kind="edge"),
    edit("unet", "height and width swapped in the crop",
         ("return x[:, :, top:top + height, left:left + width]",
          "return x[:, :, top:top + width, left:left + height]")),
    edit("unet", "crops only the rows (the columns are left as they are)",
         ("return x[:, :, top:top + height, left:left + width]", "return x[:, :, top:top + height, :]"),
         kind="ignored"),
    # UNetUp
    edit("unet", "concatenates [upsampled, skip] instead of [skip, upsampled]",
         ("torch.cat([skip, up], dim=1)", "torch.cat([up, skip], dim=1)"), kind="order"),
    edit("unet", "upsamples with kernel 3 and stride 2 (the output is not twice the size)",
         ("self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)", "self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2)")),
    edit("unet", "the transposed convolution without bias",
         ("self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)", "self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2, bias=False)")),
    edit("unet", "only one conv_bn_relu after the concatenation",
         ("self.conv = nn.Sequential(conv_bn_relu(c_out + c_skip, c_out), conv_bn_relu(c_out, c_out))",
          "self.conv = nn.Sequential(conv_bn_relu(c_out + c_skip, c_out))")),
    edit("unet", "crops the skip's top-left corner instead of its centre",
         ("skip = center_crop(skip, up.shape[-2], up.shape[-1])", "skip = skip[:, :, :up.shape[-2], :up.shape[-1]]"),
         kind="edge"),
]

AUGMENT = [
    edit("augment", "flips upside down (rows) instead of left-right",
         ("cols = torch.where(flips[:, None], cols.flip(1), cols)",
          "rows = torch.where(flips[:, None], rows.flip(1), rows)")),
    edit("augment", "one offset for the whole batch instead of one per image",
         ("offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator)",
          "offsets = torch.randint(0, 2 * padding + 1, (1, 2), generator=generator).expand(N, 2)")),
    edit("augment", "offsets drawn in 0..2 padding - 1 (torch.randint's upper bound is exclusive)",
         ("offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator)",
          "offsets = torch.randint(0, max(1, 2 * padding), (N, 2), generator=generator)"), kind="edge"),
    edit("augment", "draws from torch's global random state instead of the generator",
         ("flips = torch.rand(N, generator=generator) < 0.5", "flips = torch.rand(N) < 0.5"), kind="rng"),
    edit("augment", "one coin for the whole batch: all images flipped or none",
         ("flips = torch.rand(N, generator=generator) < 0.5", "flips = (torch.rand(1, generator=generator) < 0.5).expand(N)")),
    edit("augment", "flips every image",
         ("flips = torch.rand(N, generator=generator) < 0.5", "flips = torch.rand(N, generator=generator) < 2")),
    edit("augment", "pads by reflection instead of zeros",
         ("padded = F.pad(x, (padding, padding, padding, padding))",
          "padded = F.pad(x, (padding, padding, padding, padding), mode=\"replicate\")")),
    edit("augment", "returns float32 whatever the input's dtype",
         ("return out.permute(0, 3, 1, 2)", "return out.permute(0, 3, 1, 2).float()"), kind="dtype"),
    edit("augment", "a fresh generator seeded 0 instead of the one given",
         ("offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator)",
          "generator = torch.Generator().manual_seed(0)\n    offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator)"),
         kind="rng"),
]

TRAIN_EVAL = [
    # train_one_epoch
    edit("train_eval", "forgets model.train(): after an evaluation the model trains in evaluation mode",
         ("    device = torch.device(device)\n    model.train()\n", "    device = torch.device(device)\n")),
    edit("train_eval", "forgets optimizer.zero_grad(): the gradients of all batches add up",
         ("        optimizer.zero_grad(set_to_none=True)\n", "")),
    edit("train_eval", "steps the optimizer before computing the new gradients",
         ("        loss.backward()\n        optimizer.step()\n", "        optimizer.step()\n        loss.backward()\n"),
         kind="order"),
    edit("train_eval", "averages the batch losses instead of weighting each by its size",
         ("        total += loss.detach().double() * len(y)\n        count += len(y)\n",
          "        total += loss.detach().double()\n        count += 1\n"), kind="edge"),
    edit("train_eval", "steps the scheduler once per epoch instead of after every batch",
         ("        if scheduler is not None:\n            scheduler.step()\n        total",
          "        total"),
         ("    return total.item() / count\n    ### END SOLUTION\n\n\ndef evaluate",
          "    if scheduler is not None:\n        scheduler.step()\n    return total.item() / count\n    ### END SOLUTION\n\n\ndef evaluate")),
    edit("train_eval", "ignores the augment argument",
         ("        if augment is not None:\n            x = augment(x)\n", ""), kind="ignored"),
    # evaluate
    edit("train_eval", "forgets model.eval(): batch norm uses (and updates) batch statistics in evaluation",
         ("    device = torch.device(device)\n    model.eval()\n", "    device = torch.device(device)\n")),
    edit("train_eval", "evaluates without torch.no_grad(): the graph is recorded for nothing",
         ("    with torch.no_grad():\n        for x, y in loader:\n            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)\n            with autocast(device):\n                scores = model(x)\n",
          "    if True:\n        for x, y in loader:\n            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)\n            with autocast(device):\n                scores = model(x).detach()\n")),
    edit("train_eval", "averages the batch means of the loss instead of the per-sample losses",
         ("total += F.cross_entropy(scores.double(), y, reduction=\"sum\")",
          "total += F.cross_entropy(scores.double(), y) * len(y) / max(1, len(loader))"), kind="edge"),
    edit("train_eval", "accuracy divided by the number of batches instead of samples",
         ("return total.item() / count, int(correct) / count", "return total.item() / count, int(correct) / (count / len(y))")),
]

MUTANTS: list[Mutant] = VGG + RESIDUAL + INCEPTION + UNET + AUGMENT + TRAIN_EVAL
