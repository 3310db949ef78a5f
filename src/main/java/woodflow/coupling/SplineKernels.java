package woodflow.coupling;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * The monotone rational-quadratic spline of Durkan, Bekasov, Murray &amp; Papamakarios (2019) as plain functions,
 * element-wise over tensors of any shape {@code (...)} with unnormalised parameters on a last axis:
 * widths {@code (..., K)}, heights {@code (..., K)}, interior derivatives {@code (..., K-1)}.
 *
 * <pre>
 *   knots:  x_0 = -B < x_1 < ... < x_K = B, widths  w_k = 2B (m + (1 - K m) softmax(widths)_k)
 *           y_0 = -B < y_1 < ... < y_K = B, heights h_k = 2B (m + (1 - K m) softmax(heights)_k)
 *           delta_0 = delta_K = 1, interior delta_k = m + softplus(derivatives_k + log(e^(1 - m) - 1))
 *   in bin k, with s = h_k / w_k and xi = (x - x_k) / w_k in [0, 1]:
 *           y  = y_k + h_k (s xi^2 + delta_k xi (1 - xi)) / (s + (delta_k+1 + delta_k - 2 s) xi (1 - xi))
 *           dy/dx = s^2 (delta_k+1 xi^2 + 2 s xi (1 - xi) + delta_k (1 - xi)^2) / (s + (...) xi (1 - xi))^2
 *   outside [-B, B]: y = x (identity tails; the boundary derivatives of 1 make the map C^1)
 *   inverse in bin k (found on the y knots): xi is the root in [0, 1] of a xi^2 + b xi + c = 0 with
 *           a = h_k (s - delta_k) + (y - y_k) D,  b = h_k delta_k - (y - y_k) D,  c = -s (y - y_k),
 *           D = delta_k+1 + delta_k - 2 s,       xi = 2c / (-b - sqrt(b^2 - 4ac))
 * </pre>
 * m = 1e-3 is the minimum bin width, height and derivative. The shift {@code log(e^(1 - m) - 1)} inside the
 * softplus makes zero parameters give derivative 1, and with equal bins the identity map: a coupling whose network is
 * zero-initialised starts as the identity. The root formula {@code 2c / (-b - sqrt(...))} avoids the cancellation of
 * the textbook {@code (-b + sqrt(...)) / 2a} when a is near 0.
 */
public final class SplineKernels {
    /** Minimum bin width, bin height and derivative. */
    public static final double MIN = 1e-3;
    private static final double DERIVATIVE_SHIFT = Math.log(Math.expm1(1 - MIN));

    private SplineKernels() {}

    /** The spline's value and element-wise log dy/dx at x: {@code {y, logAbsDerivative}}, both shaped like x. */
    public static Tensor[] forward(Tensor x, Tensor widths, Tensor heights, Tensor derivatives, double bound) {
        Tensor[] knotsX = knots(widths, bound);
        Tensor[] knotsY = knots(heights, bound);
        Tensor delta = derivatives(derivatives);
        Tensor inside = x.ge(s(-bound)).logical_and(x.le(s(bound)));
        // The spline branch sees x clamped to [-B, B]: outside values never produce NaNs that would poison the
        // gradient of torch.where, whose other branch is taken there.
        Tensor xc = x.clamp(new ScalarOptional(s(-bound)), new ScalarOptional(s(bound)));
        Tensor bin = binIndex(xc, knotsX[0]);
        Bin p = new Bin(bin, knotsX, knotsY, delta);
        Tensor xi = xc.sub(p.xk).div(p.wk).clamp(new ScalarOptional(s(0)), new ScalarOptional(s(1)));
        Tensor t = xi.mul(xi.neg().add(s(1)));
        Tensor slope = p.hk.div(p.wk);
        Tensor sum = p.d1.add(p.d0).sub(slope.mul(s(2)));
        Tensor denominator = slope.add(sum.mul(t));
        Tensor numerator = p.hk.mul(slope.mul(xi.pow(s(2))).add(p.d0.mul(t)));
        Tensor y = p.yk.add(numerator.div(denominator));
        Tensor logDerivative = logDerivative(xi, t, slope, p.d0, p.d1, denominator);
        return new Tensor[] {torch.where(inside, y, x), torch.where(inside, logDerivative, s(0))};
    }

    /** The inverse map and element-wise log dx/dy at y: {@code {x, logAbsDerivative}}. */
    public static Tensor[] inverse(Tensor y, Tensor widths, Tensor heights, Tensor derivatives, double bound) {
        Tensor[] knotsX = knots(widths, bound);
        Tensor[] knotsY = knots(heights, bound);
        Tensor delta = derivatives(derivatives);
        Tensor inside = y.ge(s(-bound)).logical_and(y.le(s(bound)));
        Tensor yc = y.clamp(new ScalarOptional(s(-bound)), new ScalarOptional(s(bound)));
        Tensor bin = binIndex(yc, knotsY[0]);
        Bin p = new Bin(bin, knotsX, knotsY, delta);
        Tensor slope = p.hk.div(p.wk);
        Tensor sum = p.d1.add(p.d0).sub(slope.mul(s(2)));
        Tensor dy = yc.sub(p.yk);
        Tensor a = p.hk.mul(slope.sub(p.d0)).add(dy.mul(sum));
        Tensor b = p.hk.mul(p.d0).sub(dy.mul(sum));
        Tensor c = slope.mul(dy).neg();
        // b^2 - 4ac >= 0 for a monotone spline; clamp the rounding error that can make it slightly negative.
        Tensor discriminant = b.pow(s(2)).sub(a.mul(c).mul(s(4))).clamp(new ScalarOptional(s(0)), new ScalarOptional());
        Tensor xi = c.mul(s(2)).div(b.neg().sub(discriminant.sqrt()))
                .clamp(new ScalarOptional(s(0)), new ScalarOptional(s(1)));
        Tensor x = xi.mul(p.wk).add(p.xk);
        Tensor t = xi.mul(xi.neg().add(s(1)));
        Tensor denominator = slope.add(sum.mul(t));
        Tensor logDerivative = logDerivative(xi, t, slope, p.d0, p.d1, denominator).neg();
        return new Tensor[] {torch.where(inside, x, y), torch.where(inside, logDerivative, s(0))};
    }

    /** log dy/dx = 2 log s + log(delta_k+1 xi^2 + 2 s t + delta_k (1 - xi)^2) - 2 log(denominator). */
    private static Tensor logDerivative(Tensor xi, Tensor t, Tensor slope, Tensor d0, Tensor d1, Tensor denominator) {
        Tensor oneMinus = xi.neg().add(s(1));
        Tensor inner = d1.mul(xi.pow(s(2))).add(slope.mul(t).mul(s(2))).add(d0.mul(oneMinus.pow(s(2))));
        return slope.log().mul(s(2)).add(inner.log()).sub(denominator.log().mul(s(2)));
    }

    /**
     * Knot positions {@code (..., K+1)} from -B to B and bin sizes {@code (..., K)}, from unnormalised sizes. The
     * end knots are set exactly to -B and B (a cumulative sum would miss B by rounding).
     */
    public static Tensor[] knots(Tensor unnormalised, double bound) {
        long bins = unnormalised.size(-1);
        if (MIN * bins >= 1) {
            throw new IllegalArgumentException("a spline with " + bins + " bins cannot give every bin the minimum size "
                    + MIN + ": use fewer than " + (int) (1 / MIN) + " bins");
        }
        Tensor fractions = unnormalised.softmax(-1).mul(s(1 - MIN * bins)).add(s(MIN));
        Tensor inner = fractions.cumsum(-1).narrow(-1, 0, bins - 1).mul(s(2 * bound)).sub(s(bound));
        Tensor lo = inner.new_full(shapeWithLast(unnormalised, 1), s(-bound));
        Tensor hi = inner.new_full(shapeWithLast(unnormalised, 1), s(bound));
        Tensor knots = torch.cat(new TensorVector(lo, inner, hi), -1);
        Tensor sizes = knots.narrow(-1, 1, bins).sub(knots.narrow(-1, 0, bins));
        return new Tensor[] {knots, sizes};
    }

    /** Derivatives at all K+1 knots {@code (..., K+1)}: 1 at both ends, positive in between. */
    public static Tensor derivatives(Tensor unnormalised) {
        Tensor interior = torch.softplus(unnormalised.add(s(DERIVATIVE_SHIFT))).add(s(MIN));
        Tensor one = interior.new_full(shapeWithLast(unnormalised, 1), s(1));
        return torch.cat(new TensorVector(one, interior, one), -1);
    }

    /** The bin of each value: the number of interior knots at or below it, in 0 .. K-1. */
    private static Tensor binIndex(Tensor v, Tensor knots) {
        long bins = knots.size(-1) - 1;
        Tensor interior = knots.narrow(-1, 1, bins - 1);
        return v.unsqueeze(-1).ge(interior).sum(new long[] {-1}, true, new ScalarTypeOptional(ScalarType.Long));
    }

    private static long[] shapeWithLast(Tensor t, long last) {
        long[] shape = Tensors.shape(t);
        shape[shape.length - 1] = last;
        return shape;
    }

    /** The knot values of the bin each element falls in, gathered to the element's shape. */
    private static final class Bin {
        final Tensor xk, wk, yk, hk, d0, d1;

        Bin(Tensor bin, Tensor[] knotsX, Tensor[] knotsY, Tensor delta) {
            xk = take(knotsX[0], bin);
            wk = take(knotsX[1], bin);
            yk = take(knotsY[0], bin);
            hk = take(knotsY[1], bin);
            d0 = take(delta, bin);
            d1 = take(delta, bin.add(new Scalar(1L)));
        }

        private static Tensor take(Tensor values, Tensor bin) {
            return torch.gather(values, -1, bin).squeeze(-1);
        }
    }
}
