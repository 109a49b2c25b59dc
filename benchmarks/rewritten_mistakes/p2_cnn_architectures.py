"""Known mistakes of p2_cnn_architectures, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "residual", "fails": "test_residual",
     "mutant": "no ReLU after the addition",
     "source": '''class ResidualBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        needs_projection = stride > 1 or c_in != c_out
        if needs_projection:
            proj = nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False)
            self.shortcut = nn.Sequential(proj, nn.BatchNorm2d(c_out))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        identity = self.shortcut(x)
        h = self.conv1(x)
        h = self.bn1(h).clamp(min=0)
        h = self.conv2(h)
        h = self.bn2(h)
        return torch.add(h, identity)
'''},
    {"cell": "unet", "fails": "test_unet",
     "mutant": "rounds the offset up: the extra row and column go at the top and left",
     "source": '''import math


def center_crop(x, height, width):
    H, W = x.shape[2], x.shape[3]
    top = math.ceil((H - height) / 2)
    left = math.ceil((W - width) / 2)
    rows = x[..., top:top + height, :]
    return rows[..., left:left + width]


class UNetUp(nn.Module):
    def __init__(self, c_in, c_skip, c_out):
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
        self.conv = nn.Sequential(
            conv_bn_relu(c_skip + c_out, c_out),
            conv_bn_relu(c_out, c_out),
        )

    def forward(self, x, skip):
        upsampled = self.up(x)
        h, w = upsampled.shape[2], upsampled.shape[3]
        cropped = center_crop(skip, h, w)
        merged = torch.cat((cropped, upsampled), 1)
        return self.conv(merged)
'''},
    {"cell": "inception", "fails": "test_inception",
     "mutant": "the 5x5 branch uses a 3x3 convolution",
     "source": '''class InceptionBlock(nn.Module):
    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, c_pool):
        super().__init__()
        self.branch1 = conv_bn_relu(c_in, c1, kernel_size=1)
        reduce3 = conv_bn_relu(c_in, c3_reduce, kernel_size=1)
        conv3 = conv_bn_relu(c3_reduce, c3, kernel_size=3)
        self.branch3 = nn.Sequential(reduce3, conv3)
        reduce5 = conv_bn_relu(c_in, c5_reduce, kernel_size=1)
        conv5 = conv_bn_relu(c5_reduce, c5, kernel_size=3)
        self.branch5 = nn.Sequential(reduce5, conv5)
        pool = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = nn.Sequential(pool, conv_bn_relu(c_in, c_pool, kernel_size=1))

    def forward(self, x):
        outs = []
        for name in ("branch1", "branch3", "branch5", "branch_pool"):
            outs.append(getattr(self, name)(x))
        return torch.cat(outs, dim=1)
'''},
]

FIXES = {0: ("return torch.add(h, identity)", "return torch.add(h, identity).clamp(min=0)"),
         1: [("math.ceil((H - height) / 2)", "(H - height) // 2"), ("math.ceil((W - width) / 2)", "(W - width) // 2")],
         2: ("conv5 = conv_bn_relu(c5_reduce, c5, kernel_size=3)", "conv5 = conv_bn_relu(c5_reduce, c5, kernel_size=5)")}
