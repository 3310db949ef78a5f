package woodflow.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

/**
 * The one convolution call of every network in woodflow (stride 1, no dilation, one group), with two paths:
 * <ul>
 *   <li><b>fast</b>: {@code torch.conv2d}, which libtorch sends to oneDNN on x86 CPUs (channels-last, blocked
 *       weights, JIT kernels chosen per CPU);</li>
 *   <li><b>reference</b>: {@code thnn_conv2d}, libtorch's im2col + matrix-multiply convolution, whose backward
 *       ({@code slow_conv2d_backward}) does not go through oneDNN either.</li>
 * </ul>
 * The fast path is only trusted where {@link FastPathCheck} has compared it with the reference path on this machine:
 * a shape the check (or a training step) found wrong is routed to the reference path by {@link ConvRouting}.
 */
public final class Conv {
    private Conv() {}

    /**
     * x in channels-last (NHWC) memory order, which oneDNN's convolutions run fastest in (most of all in bf16). Under
     * autocast a float32 x also takes the autocast dtype in the same copy: the cast the first convolution would
     * otherwise make, one pass over x (and one autograd node) instead of two.
     */
    public static Tensor channelsLast(Tensor x) {
        if (x.dim() != 4) return x;
        org.bytedeco.pytorch.global.torch.DeviceType dev = x.device().type();
        if (Tensors.dtype(x) == ScalarType.Float && torch.is_autocast_enabled(dev)) {
            return x.to(torch.get_autocast_dtype(dev), false, false,
                    new org.bytedeco.pytorch.MemoryFormatOptional(MemoryFormat.ChannelsLast));
        }
        return x.contiguous(MemoryFormat.ChannelsLast);
    }

    /** The convolution with "same" zero padding for an odd kernel. */
    public static Tensor same(Tensor x, Tensor weight, Tensor bias) {
        long ph = weight.size(2) / 2, pw = weight.size(3) / 2;
        return padded(x, weight, bias, ph, pw);
    }

    /** The convolution with zero padding {@code ph} rows and {@code pw} columns on each side. */
    public static Tensor padded(Tensor x, Tensor weight, Tensor bias, long ph, long pw) {
        if (ConvRouting.idle()) { // nothing routed, forced or recorded: skip the shape's dozen engine queries
            ConvRouting.countFast();
            return fast(x, weight, bias, ph, pw);
        }
        ConvShape shape = ConvShape.of(x, weight, ph, pw);
        ConvRouting.record(shape);
        return ConvRouting.useReference(shape) ? reference(x, weight, bias, ph, pw) : fast(x, weight, bias, ph, pw);
    }

    /**
     * The fast path; a channels-last input gets a channels-last kernel too, because oneDNN reorders (slowly, at
     * every call) when the two layouts differ. A bf16 convolution on a CPU without bf16 dot products runs as
     * {@link Bf16Kernels#EMULATED}.
     */
    public static Tensor fast(Tensor x, Tensor weight, Tensor bias, long ph, long pw) {
        // An NCHW call on a CPU runs in channels-last and gives its output back in NCHW: oneDNN runs an NCHW float32
        // convolution in blocked formats (channels padded to 8 or 16), and libtorch 2.10's oneDNN 3.7.1 computes
        // those wrongly on an AMD Zen 5 (NaN or 30-50% off input gradients, even outputs, where the channels are
        // not a multiple of 16; FastPathCheckTest), while channels-last there is right and no slower for these
        // small maps. The copies are one pass over a tensor each way, the autograd graph reverses them.
        if (x.dim() == 4 && x.is_cpu() && !x.is_contiguous(MemoryFormat.ChannelsLast)) {
            return fast(x.contiguous(MemoryFormat.ChannelsLast), weight, bias, ph, pw).contiguous();
        }
        long k = weight.size(2) * weight.size(3);
        boolean clKernel = k > 1 && x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
        Tensor y;
        if (Bf16Kernels.emulates(x)) {
            y = Bf16Kernels.conv(x, weight, bias, ph, pw, clKernel);
        } else {
            if (clKernel) weight = weight.contiguous(MemoryFormat.ChannelsLast);
            TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
            y = torch.conv2d(x, weight, b, new long[] {1, 1}, new long[] {ph, pw}, new long[] {1, 1}, 1);
        }
        ConvRouting.Fault f = ConvRouting.fault();
        return f == null ? y : f.apply(ConvShape.of(x, weight, ph, pw), y);
    }

    /**
     * The reference path. It takes contiguous (NCHW) operands (its backward refuses channels-last weight gradients)
     * and returns the output in the input's layout. Under autocast it casts as autocast would for conv2d, since
     * autocast does not know this op.
     */
    public static Tensor reference(Tensor x, Tensor weight, Tensor bias, long ph, long pw) {
        boolean cl = x.dim() == 4 && !x.is_contiguous() && x.is_contiguous(MemoryFormat.ChannelsLast);
        ScalarType run = ConvShape.runDtype(x);
        // emulated bf16 (Bf16Kernels): the reference kernels in float32 on the bf16-rounded operands, the output
        // rounded to bf16 -- the same numbers as libtorch's bf16 reference kernels, which are scalar loops on a CPU
        // without bf16 dot products (config c's start-up check took 27.5 s with them, 6 s in float32)
        boolean emulate = run == ScalarType.BFloat16 && Bf16Kernels.current() == Bf16Kernels.EMULATED;
        if (emulate) {
            x = Bf16Kernels.rounded(x);
            weight = Bf16Kernels.rounded(weight);
            if (bias != null) bias = Bf16Kernels.rounded(bias);
        } else {
            if (Tensors.dtype(x) != run) x = x.to(run);
            if (Tensors.dtype(weight) != run) weight = weight.to(run);
            if (bias != null && Tensors.dtype(bias) != run) bias = bias.to(run);
        }
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
        Tensor y = torch.thnn_conv2d(x.contiguous(), weight.contiguous(), new long[] {weight.size(2), weight.size(3)},
                b, new long[] {1, 1}, ph, pw);
        if (emulate) y = y.to(ScalarType.BFloat16);
        return cl ? y.contiguous(MemoryFormat.ChannelsLast) : y;
    }

    /**
     * Rows per chunk when a check runs a whole batch on the reference path: the largest divisor of {@code rows} up
     * to {@value #REFERENCE_ROWS}. The reference path's memory grows with the rows it holds at once (its backward
     * keeps each convolution's unfolded input, 9x the input of a 3x3 convolution), so the checks run it a few images
     * at a time; the images of a flow are independent, so only the summation order changes.
     */
    public static int referenceChunk(long rows) {
        for (int c = (int) Math.min(REFERENCE_ROWS, rows); c > 1; c--) {
            if (rows % c == 0) return c;
        }
        return 1;
    }

    /** At most this many images at a time on the reference path in the start-up checks. */
    public static final int REFERENCE_ROWS = 4;
}
