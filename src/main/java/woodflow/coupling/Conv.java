package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** The one convolution call the networks use: stride 1, "same" zero padding for odd kernels. */
public final class Conv {
    private Conv() {}

    public static Tensor same(Tensor x, Tensor weight, Tensor bias) {
        long k = weight.size(2);
        long pad = k / 2;
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
        return torch.conv2d(x, weight, b, new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, 1);
    }
}
