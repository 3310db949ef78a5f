package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;

/** The one convolution call the networks use: stride 1, "same" zero padding for odd kernels. */
public final class Conv {
    private Conv() {}

    /** x in channels-last (NHWC) memory order, which oneDNN's convolutions run fastest in (most of all in bf16). */
    public static Tensor channelsLast(Tensor x) {
        return x.dim() == 4 ? x.contiguous(MemoryFormat.ChannelsLast) : x;
    }

    /**
     * The convolution; a channels-last input gets a channels-last kernel too, because oneDNN reorders (slowly, at
     * every call) when the two layouts differ.
     */
    public static Tensor same(Tensor x, Tensor weight, Tensor bias) {
        long k = weight.size(2);
        long pad = k / 2;
        if (k > 1 && x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast)) {
            weight = weight.contiguous(MemoryFormat.ChannelsLast);
        }
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
        return torch.conv2d(x, weight, b, new long[] {1, 1}, new long[] {pad, pad}, new long[] {1, 1}, 1);
    }
}
