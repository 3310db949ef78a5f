package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * The memory-efficient Woodbury transformation (Lu &amp; Huang, 2020, supplement §B): a channel transform, then a
 * width transform and a height transform, each the identity plus a rank-d update.
 *
 * <pre>
 *   forward:  X_c = (I_c + U_c V_c) X                       X as (c, h*w)
 *             X_w = X_c (I_w + U_w V_w)                     X_c as (c*h, w)
 *             Y   = X_w (I_h + U_h V_h)                     X_w as (c*w, h), i.e. with h and w swapped
 *   inverse:  the same three steps in reverse order, each by the Woodbury identity
 *   log-det:  h*w log|det(I + V_c U_c)| + c*h log|det(I + V_w U_w)| + c*w log|det(I + V_h U_h)|
 * </pre>
 * Parameters d_c*2c + d_w*2w + d_h*2h: O(d (c + h + w)) instead of O(d (c + h w)).
 */
public final class MeWoodburyTransform extends FlowLayer {
    private final LowRankFactor channel;
    private final LowRankFactor width;
    private final LowRankFactor height;
    private final int c;
    private final int h;
    private final int w;

    public MeWoodburyTransform(int c, int h, int w, int dChannel, int dHeight, int dWidth, Init init) {
        if (c <= 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("ME-Woodbury transform needs a positive shape, got " + c + "x" + h + "x" + w);
        }
        this.c = c;
        this.h = h;
        this.w = w;
        channel = child("channel", new LowRankFactor(c, dChannel, init));
        width = child("width", new LowRankFactor(w, dWidth, init));
        height = child("height", new LowRankFactor(h, dHeight, init));
    }

    public LowRankFactor channel() {
        return channel;
    }

    public LowRankFactor width() {
        return width;
    }

    public LowRankFactor height() {
        return height;
    }

    private Tensor forwardLogDet(Tensor x) {
        Tensor ld = LowRankFactor.weightedLogAbsDet(new double[] {h * w, c * h, c * w}, channel,
                width, height);
        return ld.to(Tensors.dtype(x)).expand(x.size(0));
    }

    private void check(Tensor x) {
        if (x.dim() != 4 || x.size(1) != c || x.size(2) != h || x.size(3) != w) {
            throw new IllegalArgumentException("ME-Woodbury layer " + path() + " was built for (B, " + c + ", " + h
                    + ", " + w + ") inputs, got " + Tensors.shapeString(x));
        }
    }

    @Override
    public FlowResult forward(Tensor x) {
        check(x);
        long b = x.size(0);
        Tensor xc = channel.left(x.reshape(b, c, (long) h * w));
        Tensor xw = width.right(xc.reshape(b, (long) c * h, w));
        // X_h (I + U_h V_h) on the (c*w, h) view is the same map on the columns of the (h, w) planes: no transpose
        Tensor y = height.rightOnColumns(xw.reshape(b * c, h, w)).reshape(b, c, h, w);
        return new FlowResult(y, forwardLogDet(x));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        check(y);
        long b = y.size(0);
        // each factor's I + V U once, for both its inverse and its log-det
        LowRankFactor.Inverse ci = channel.inverse(), wi = width.inverse(), hi = height.inverse();
        Tensor xw = height.rightInverseOnColumns(y.reshape(b * c, h, w), hi).reshape(b, (long) c * h, w);
        Tensor xc = width.rightInverse(xw, wi).reshape(b, c, (long) h * w);
        Tensor x = channel.leftInverse(xc, ci).reshape(b, c, h, w);
        Tensor ld = ci.logAbsDet().mul(s(-(double) h * w)).add(wi.logAbsDet().mul(s(-(double) c * h)))
                .add(hi.logAbsDet().mul(s(-(double) c * w)));
        return new FlowResult(x, ld.to(Tensors.dtype(y)).expand(b));
    }
}
