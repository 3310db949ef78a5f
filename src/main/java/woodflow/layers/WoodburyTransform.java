package woodflow.layers;

import woodflow.core.Tensors;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;


/**
 * The Woodbury transformation (Lu &amp; Huang, 2020): a channel transform then a spatial transform, each the identity
 * plus a rank-d update. With {@code x} reshaped to {@code X: (c, n)}, n = h*w, per sample:
 *
 * <pre>
 *   forward:  X' = (I_c + U_c V_c) X            Y = X' (I_n + U_s V_s)
 *   inverse:  X' = Y - (Y U_s) (I + V_s U_s)^-1 V_s
 *             X  = X' - U_c (I + V_c U_c)^-1 (V_c X')
 *   log-det:  n * log|det(I + V_c U_c)| + c * log|det(I + V_s U_s)|      (the same for every sample)
 * </pre>
 * Cost O(d c n) both ways; parameters d_c*2c + d_s*2n.
 */
public final class WoodburyTransform extends FlowLayer {
    private final LowRankFactor channel;
    private final LowRankFactor spatial;
    private final int c;
    private final int h;
    private final int w;

    public WoodburyTransform(int c, int h, int w, int dChannel, int dSpatial, Init init) {
        if (c <= 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("Woodbury transform needs a positive shape, got " + c + "x" + h + "x" + w);
        }
        this.c = c;
        this.h = h;
        this.w = w;
        channel = child("channel", new LowRankFactor(c, dChannel, init));
        spatial = child("spatial", new LowRankFactor(h * w, dSpatial, init));
    }

    public LowRankFactor channel() {
        return channel;
    }

    public LowRankFactor spatial() {
        return spatial;
    }

    private Tensor forwardLogDet(Tensor x) {
        Tensor ld = LowRankFactor.weightedLogAbsDet(new double[] {h * w, c}, channel, spatial);
        return ld.to(Tensors.dtype(x)).expand(x.size(0));
    }

    private void check(Tensor x) {
        if (x.dim() != 4 || x.size(1) != c || x.size(2) != h || x.size(3) != w) {
            throw new IllegalArgumentException("Woodbury layer " + path() + " was built for (B, " + c + ", " + h + ", "
                    + w + ") inputs, got " + woodflow.core.Tensors.shapeString(x));
        }
    }

    @Override
    public FlowResult forward(Tensor x) {
        check(x);
        long b = x.size(0);
        Tensor y = spatial.right(channel.left(x.reshape(b, c, (long) h * w)));
        return new FlowResult(y.reshape(b, c, h, w), forwardLogDet(x));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        check(y);
        long b = y.size(0);
        // each factor's I + V U once, for both its inverse and its log-det
        LowRankFactor.Inverse ci = channel.inverse(), si = spatial.inverse();
        Tensor x = channel.leftInverse(spatial.rightInverse(y.reshape(b, c, (long) h * w), si), ci);
        Tensor ld = ci.logAbsDet().mul(Tensors.s(-(double) h * w)).add(si.logAbsDet().mul(Tensors.s(-(double) c)));
        return new FlowResult(x.reshape(b, c, h, w), ld.to(Tensors.dtype(y)).expand(b));
    }
}
