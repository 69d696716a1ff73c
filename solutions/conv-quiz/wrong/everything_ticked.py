"""WRONG VARIANT: ticks every option of the all-that-apply questions (must not be rewarded).

Convolution concept quiz: fill in ANSWERS below (see README.md for the answer formats).

Answer formats
  choice, one letter:        "b"
  choice, all that apply:    "ace", "a, c, e" or ["a", "c", "e"] (exactly the right set)
  number:                    24 or "26,593,280"
Case, spaces, commas and order do not matter. None means unanswered.

Questions
---------

q1 (choice, one letter). What does nn.Conv2d(C_in, C_out, k, stride=s, padding=p,
dilation=d) compute for output (n, o, i, j)? Below, x is the zero-padded input and the
sums run over c < C_in and u, v < k.
  a) sum x[n, c, i*s + u*d, j*s + v*d] * W[o, c, k-1-u, k-1-v] + b[o]: a true
     convolution, the kernel is flipped before it slides over the input
  b) sum x[n, c, i*s + u*d, j*s + v*d] * W[o, c, u, v] + b[o]: a cross-correlation, the
     kernel slides unflipped and the products are summed over all input channels
  c) sum over u, v only of x[n, o, i*s + u*d, j*s + v*d] * W[o, o, u, v] + b[o]: output
     channel o sees only input channel o
  d) the element-wise product x * W, with W broadcast over the batch

q2 (choice, all that apply). Which statements about a convolution layer are true?
  a) The same kernel weights are used at every spatial position (weight sharing).
  b) Each output value depends only on a k x k window of the input (across all input
     channels): its local receptive field.
  c) The number of parameters of nn.Conv2d grows with the input's height and width.
  d) A convolution is a fully-connected layer whose weight matrix is sparse and has tied
     (repeated) entries.
  e) With stride 1, shifting the input by one pixel shifts the output by one pixel (away
     from the borders): convolution is translation-equivariant.
  f) A convolution's output does not change when an object moves in the image:
     convolution is translation-invariant.

q3 (number). An input of height 57 goes through
nn.Conv2d(C, C, kernel_size=5, stride=2, padding=1, dilation=3). What is the output height?

q4 (choice, all that apply). Which statements about stride, padding and dilation are true?
  a) Stride 2 roughly halves each spatial dimension of the output, so the layer does about
     4 times fewer multiply-accumulates.
  b) With stride 1, an odd kernel size k and padding (k - 1) / 2, the output has the same
     height and width as the input.
  c) Dilation d multiplies the number of weights in the kernel by d * d.
  d) Dilation d lets a k-tap kernel span d * (k - 1) + 1 input pixels: a larger receptive
     field with no extra parameters.
  e) Zero padding adds parameters to the layer.

q5 (number). How many parameters (weights and biases) does
nn.Conv2d(128, 256, kernel_size=3) have?

q6 (number). A depthwise-separable layer maps 128 channels to 256: a 3 x 3 depthwise conv
(nn.Conv2d(128, 128, 3, padding=1, groups=128)) then a 1 x 1 pointwise conv
(nn.Conv2d(128, 256, 1)). Its output is 28 x 28. How many multiply-accumulates (MACs) does
it perform for one input image? Bias additions are not MACs.

q7 (number). How many parameters does the layer of q6 have, both convs with bias=True?

q8 (choice, one letter). Why is a depthwise-separable conv cheaper than a standard k x k
conv with the same input and output channels?
  a) It produces fewer output channels.
  b) It factorises the C_out x C_in x k x k kernel into one k x k filter per input channel
     and a 1 x 1 channel mixer: per output pixel C_in*k*k + C_in*C_out MACs instead of
     C_in*C_out*k*k, a cost ratio of 1/C_out + 1/(k*k).
  c) It runs in half precision.
  d) Most of its weights are zero and are skipped.

q9 (number). Three layers are stacked, with no pooling: a 3 x 3 conv with stride 1, a
3 x 3 conv with stride 2, then a 3 x 3 conv with stride 1 and dilation 2. How many input
pixels wide (along one axis) is the receptive field of one output of the last layer?

q10 (choice, all that apply). Which statements about mixed-precision training
(torch.autocast with a GradScaler) are true?
  a) Under autocast, convolutions and matrix multiplies run in float16 or bfloat16 (on
     tensor cores) while precision-sensitive ops such as reductions and softmax stay in
     float32.
  b) The weights stay in float32 (a master copy) and the optimizer updates them in float32.
  c) Loss scaling multiplies the loss before backward so that small float16 gradients do
     not underflow to zero; the gradients are unscaled before the optimizer step, and a
     step whose gradients contain inf or NaN is skipped.
  d) bfloat16 needs loss scaling even more than float16, because it has fewer exponent
     bits.
  e) The recommended recipe is model.half(), so that weights, gradients and optimizer state
     are all float16.

q11 (choice, all that apply). Which of these make convolutions in a PyTorch model run
faster on a GPU?
  a) torch.backends.cudnn.benchmark = True when input shapes do not change, so that cuDNN
     times its algorithms once and keeps the fastest.
  b) Keeping activations and weights in channels_last (NHWC) memory format.
  c) Running the convolutions in float16 or bfloat16 under autocast, on tensor cores.
  d) torch.backends.cudnn.deterministic = True.
  e) Computing the convolution as one large matrix multiply (im2col + GEMM), or with
     Winograd or FFT algorithms, instead of looping over output positions.
  f) Calling torch.cuda.synchronize() after every layer.
  g) Splitting each batch across several GPUs with DistributedDataParallel.
  h) Replacing k x k convs by depthwise-separable ones where the accuracy allows.

q12 (choice, all that apply). Which statements about bias and activation functions are true?
  a) A conv's bias adds one learned constant per output channel, shifting that channel's
     pre-activation (and so where a following ReLU starts to let values through).
  b) Without a nonlinearity between them, two stacked convs compute one linear map (itself
     a single convolution), so the extra depth adds no expressive power.
  c) A conv bias placed right before BatchNorm is redundant: BatchNorm subtracts the
     per-channel mean, which cancels it, and BatchNorm's own shift (beta) plays its role;
     hence bias=False in such convs.
  d) The activation function is what makes the network differentiable.
  e) The bias of nn.Conv2d has one value per output pixel (the shape of the output map).

Caught by: test_q2_conv_properties, test_q4_stride_padding_dilation, test_q10_mixed_precision
"""

ANSWERS = {
    "q1": "b", "q2": "abcdef", "q3": 24, "q4": "abcde", "q5": 295168, "q6": 26593280,
    "q7": 34304, "q8": "b", "q9": 13, "q10": "abcde", "q11": "abcdefgh", "q12": "abcde",
}
