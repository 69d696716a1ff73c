"""Fix through the module's own helper: nn.Conv2d._conv_forward(input, weight, bias) applies the
module's stride/padding/dilation/groups to *given* weight and bias tensors (it is what
Conv2d.forward calls with self.weight and self.bias).
"""

import torch.nn as nn


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    K, Cg, kh, kw = weight.shape
    conv = nn.Conv2d(input.size(1), K, kernel_size=(kh, kw), stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=False, device="meta")
    return conv._conv_forward(input, weight, bias)
