package woodflow.layers;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.nn.Conv;

import static woodflow.core.Tensors.s;

/**
 * The emerging convolution (Hoogeboom, van den Berg &amp; Welling, 2019): a 1x1 convolution followed by two masked
 * d x d convolutions whose product has a full d x d receptive field.
 *
 * <pre>
 *   forward:  y = A2 * (A1 * (W x))            (* = convolution with zero padding)
 *   A1:       taps before the centre (raster order) free, taps after it zero, centre lower-triangular over
 *             channels with diagonal exp(logdiag1)
 *   A2:       a kernel of the same form turned by 180 degrees, channels reversed (upper-triangular centre,
 *             diagonal exp(logdiag2), reversed)
 *   log-det = log-det(W) + h*w * (sum(logdiag1) + sum(logdiag2))
 *   inverse:  v = A2^-1 y by substitution in reverse raster order, u = A1^-1 v in raster order, x = W^-1 u
 * </pre>
 * Each masked factor has a triangular Jacobian in the (pixel, channel) raster order (upper for A2), with the centre
 * diagonal on its diagonal. The diagonal is parametrised as exp(logdiag), starting at 1, so it can never cross zero;
 * the 1x1 convolution in front supplies any sign. The inverse runs in {@link EmergingKernels} (serial over pixels,
 * parallel over the batch, float64) and is not differentiable in the parameters: it is the sampling direction.
 */
public final class EmergingConv extends FlowLayer {
    private final int c;
    private final int d;
    private final Conv1x1 conv1x1;
    private final Tensor weight1;
    private final Tensor logDiag1;
    private final Tensor weight2;
    private final Tensor logDiag2;
    /** 1 on the free taps (before the centre, and strictly below the centre's diagonal), else 0. Not saved. */
    private final Tensor freeMask;
    /** 1 on the centre tap, else 0, shape (d, d). Not saved. */
    private final Tensor centre;

    public EmergingConv(int channels, int kernel, Init init) {
        if (channels <= 0) {
            throw new IllegalArgumentException("emerging convolution needs a positive channel count, got " + channels);
        }
        if (kernel <= 0 || kernel % 2 == 0) {
            throw new IllegalArgumentException("emerging convolution needs an odd kernel size (3, 5, ...), got "
                    + kernel);
        }
        this.c = channels;
        this.d = kernel;
        conv1x1 = child("conv1x1", new Conv1x1(channels, true, init));
        freeMask = Tensors.keep(freeMask(channels, kernel, init));
        centre = Tensors.keep(centreTap(kernel, init));
        // Small free taps: the layer starts near the identity after its 1x1 rotation.
        weight1 = param("weight1", init.normal(0.01, c, c, d, d).mul(freeMask));
        logDiag1 = param("logdiag1", init.zeros(c));
        weight2 = param("weight2", init.normal(0.01, c, c, d, d).mul(freeMask));
        logDiag2 = param("logdiag2", init.zeros(c));
    }

    private static Tensor freeMask(int c, int d, Init init) {
        double[] m = new double[c * c * d * d];
        int k = d / 2;
        for (int o = 0; o < c; o++) {
            for (int i = 0; i < c; i++) {
                for (int a = 0; a < d; a++) {
                    for (int b = 0; b < d; b++) {
                        int tap = a * d + b, mid = k * d + k;
                        boolean free = tap < mid || (tap == mid && i < o);
                        m[((o * c + i) * d + a) * d + b] = free ? 1 : 0;
                    }
                }
            }
        }
        return Tensors.fromDoubles(m, c, c, d, d).to(init.dtype());
    }

    private static Tensor centreTap(int d, Init init) {
        double[] e = new double[d * d];
        e[(d / 2) * d + d / 2] = 1;
        return Tensors.fromDoubles(e, d, d).to(init.dtype());
    }

    public int kernelSize() {
        return d;
    }

    /** The first masked factor A1 (lower, raster-causal), as a conv2d weight (c, c, d, d). */
    public Tensor kernel1() {
        return lower(weight1, logDiag1);
    }

    /** The second masked factor A2 (upper: a lower kernel turned by 180 degrees, channels reversed). */
    public Tensor kernel2() {
        return lower(weight2, logDiag2).flip(0, 1, 2, 3);
    }

    /** The 1x1 convolution in front of the masked factors. */
    public Conv1x1 conv1x1() {
        return conv1x1;
    }

    private Tensor lower(Tensor weight, Tensor logDiag) {
        Tensor diag = torch.diag_embed(logDiag.exp()).unsqueeze(-1).unsqueeze(-1); // (c, c, 1, 1)
        return weight.mul(freeMask).add(diag.mul(centre));
    }

    private Tensor maskedLogDet(Tensor x, double sign) {
        double hw = (double) x.size(2) * x.size(3);
        return logDiag1.sum().add(logDiag2.sum()).mul(s(sign * hw)).to(Tensors.dtype(x)).expand(x.size(0));
    }

    private void checkInput(Tensor x) {
        if (x.dim() != 4 || x.size(1) != c) {
            throw new IllegalArgumentException("emerging convolution over " + c + " channels takes (B, " + c
                    + ", H, W), got " + Tensors.shapeString(x));
        }
    }

    @Override
    public FlowResult forward(Tensor x) {
        checkInput(x);
        FlowResult r = conv1x1.forward(x);
        Tensor v = Conv.same(r.out(), kernel1(), null);
        Tensor y = Conv.same(v, kernel2(), null);
        return new FlowResult(y, r.logDet().add(maskedLogDet(x, 1)));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        checkInput(y);
        int b = (int) y.size(0), h = (int) y.size(2), w = (int) y.size(3);
        Tensor u;
        try (NoGradGuard g = new NoGradGuard()) {
            EmergingKernels.Packed a1 = EmergingKernels.pack(Tensors.toDoubles(lower(weight1, logDiag1)), c, d);
            EmergingKernels.Packed a2 = EmergingKernels.pack(Tensors.toDoubles(lower(weight2, logDiag2)), c, d);
            double[] channelsLast = Tensors.toDoubles(y.permute(0, 2, 3, 1));
            double[] v = EmergingKernels.solveUpper(a2, channelsLast, b, h, w);
            double[] x = EmergingKernels.solveLower(a1, v, b, h, w);
            u = Tensors.fromDoubles(x, b, h, w, c).permute(0, 3, 1, 2).contiguous()
                    .to(y.device(), Tensors.dtype(y));
        }
        FlowResult r = conv1x1.inverse(u);
        return new FlowResult(r.out(), r.logDet().add(maskedLogDet(y, -1)));
    }
}
