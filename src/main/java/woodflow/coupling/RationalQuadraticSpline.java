package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowResult;
import woodflow.core.Tensors;

/**
 * The neural spline update of a coupling (Durkan, Bekasov, Murray &amp; Papamakarios, 2019): every element of
 * {@code x2} goes through its own monotone rational-quadratic spline with K bins on [-B, B] and identity tails.
 *
 * <pre>
 *   theta (B, c2 * (3K - 1), H, W), per element: K widths, K heights, K - 1 interior derivatives (unnormalised)
 *   forward:  y2 = RQS(x2; theta)         log-det = sum log dRQS/dx
 *   inverse:  x2 = RQS^-1(y2; theta)      log-det = -(the same at x2)
 * </pre>
 * The formulas are in {@link SplineKernels}. Zero parameters give the identity, so a zero-initialised conditioner
 * starts the coupling as the identity. The element-major layout of theta (element j's parameters at channels
 * {@code j*(3K-1) .. (j+1)*(3K-1) - 1}) matches the affine transform's interleaving.
 */
public final class RationalQuadraticSpline implements ElementwiseTransform {
    private final int bins;
    private final double bound;

    public RationalQuadraticSpline(int bins, double bound) {
        if (bins < 1) throw new IllegalArgumentException("a spline needs at least 1 bin, got " + bins);
        if (!(bound > 0) || Double.isInfinite(bound)) {
            throw new IllegalArgumentException("the spline interval [-B, B] needs a finite B > 0, got " + bound);
        }
        this.bins = bins;
        this.bound = bound;
    }

    public int bins() {
        return bins;
    }

    public double bound() {
        return bound;
    }

    @Override
    public int parametersPerElement() {
        return 3 * bins - 1;
    }

    /** theta as (B, c2, H, W, 3K-1), split into widths, heights and interior derivatives. */
    private Tensor[] split(Tensor theta, Tensor x2) {
        long b = x2.size(0), c = x2.size(1), h = x2.size(2), w = x2.size(3);
        int p = parametersPerElement();
        if (theta.size(1) != c * p) {
            throw new IllegalArgumentException("a " + bins + "-bin spline over " + c + " channels needs " + c * p
                    + " parameter channels, the conditioner gave " + theta.size(1));
        }
        Tensor t = theta.reshape(b, c, p, h, w).permute(0, 1, 3, 4, 2);
        return new Tensor[] {t.narrow(-1, 0, bins), t.narrow(-1, bins, bins), t.narrow(-1, 2L * bins, bins - 1)};
    }

    @Override
    public FlowResult forward(Tensor x2, Tensor theta) {
        Tensor[] p = split(theta, x2);
        Tensor[] r = SplineKernels.forward(x2, p[0], p[1], p[2], bound);
        return new FlowResult(r[0], Tensors.sumPerSample(r[1]));
    }

    @Override
    public FlowResult inverse(Tensor y2, Tensor theta) {
        Tensor[] p = split(theta, y2);
        Tensor[] r = SplineKernels.inverse(y2, p[0], p[1], p[2], bound);
        return new FlowResult(r[0], Tensors.sumPerSample(r[1]));
    }
}
