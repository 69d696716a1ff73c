"""WRONG: grad_input by conv_transpose2d without the forward's stride (right for stride 1).
Violates: stride. Caught by: test_stride, test_pair_arguments, test_random_*.
"""

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    _, _, Ho, Wo = grad_output.shape
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    G = groups

    # grad_input (N, C, H, W): transposed conv. Its natural output height is
    # (Ho - 1) * s - 2p + d * (kh - 1) + 1; output_padding makes up the difference to H.
    natural = [(o - 1) * s - 2 * p + d * (k - 1) + 1
               for o, s, p, d, k in zip((Ho, Wo), stride, padding, dilation, (kh, kw))]
    output_padding = (H - natural[0], W - natural[1])
    output_padding = tuple(max(0, min(op, 0)) for op in output_padding)
    grad_input = F.conv_transpose2d(grad_output, weight, padding=padding,
                                    output_padding=output_padding, groups=G, dilation=dilation)

    # grad_weight (K, Cg, kh, kw):
    #   gw[k, c, i, j] = sum_{n, y, x} go[n, k, y, x] * xpad[n, g*Cg + c, y*s + i*d, x*s + j*d]
    # As a conv2d: "input"  = x arranged (Cg, G*N, H, W)  (batch -> channels, per group),
    #              "weight" = go arranged (K, N, Ho, Wo),
    #              stride = d, dilation = s, groups = G  -> (Cg, K, >= kh, >= kw).
    x = input.reshape(N, G, Cg, H, W).permute(2, 1, 0, 3, 4).reshape(Cg, G * N, H, W)
    go = grad_output.transpose(0, 1)                                   # (K, N, Ho, Wo)
    gw = F.conv2d(x, go, stride=dilation, padding=padding, dilation=stride, groups=G)
    grad_weight = gw[:, :, :kh, :kw].transpose(0, 1).contiguous()      # (K, Cg, kh, kw)

    grad_bias = grad_output.sum(dim=(0, 2, 3))                         # (K,)
    return grad_input, grad_weight, grad_bias
