package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The kernels of the Woodbury transformations (Lu &amp; Huang, 2020) as plain functions, for {@code U: n x d},
 * {@code V: d x n} and a batch {@code X}:
 *
 * <pre>
 *   left:   (I_n + U V) X   = X + U (V X)                      X: (B, n, m)
 *   right:  X (I_n + U V)   = X + (X U) V                      X: (B, m, n)
 *   log|det(I_n + U V)|     = log|det(I_d + V U)|               (Sylvester)
 *   (I_n + U V)^-1          = I_n - U (I_d + V U)^-1 V          (Woodbury)
 * </pre>
 * No n x n matrix is formed. The d x d matrix {@code I_d + V U}, its determinant and its inverse are computed in
 * float64 whatever the model's precision: with d up to 32 this costs nothing, and float32 loses digits of a
 * log-det that is multiplied by n (up to 65,536) in the layer's total.
 *
 * <p>Each map is written with the fewest kernels (and autograd nodes) the engine has for it: a left map on a batch is
 * one {@code bmm} and one {@code baddbmm} on the factors broadcast over the batch (a broadcasting {@code matmul}
 * would transpose and copy around a folded {@code mm}); a right map is one {@code mm} and one {@code addmm} on the
 * batch flattened to rows; {@code I + V U} is one {@code addmm}; the determinants of one layer are one batched
 * {@code slogdet}.
 */
public final class LowRank {
    private LowRank() {}

    /** {@code I_d + V U} in float64 (differentiable in U and V). */
    public static Tensor capacitance(Tensor u, Tensor v) {
        Tensor ud = u.to(ScalarType.Double), vd = v.to(ScalarType.Double);
        return torch.addmm(torch.eye(vd.size(0), woodflow.core.Tensors.optionsLike(vd)), vd, ud);
    }

    /**
     * {@code sum_i weights[i] * log|det(capacitances[i])|} as a 0-dim float64 tensor: one batched {@code slogdet}
     * when the matrices have one size (a Woodbury layer with d_c = d_s), one per matrix otherwise.
     */
    public static Tensor weightedLogAbsDet(Tensor[] capacitances, double[] weights) {
        boolean sameSize = true;
        for (Tensor m : capacitances) sameSize &= m.size(0) == capacitances[0].size(0);
        if (!sameSize) {
            Tensor sum = null;
            for (int i = 0; i < capacitances.length; i++) {
                Tensor t = logAbsDet(capacitances[i]).mul(woodflow.core.Tensors.s(weights[i]));
                sum = sum == null ? t : sum.add(t);
            }
            return sum;
        }
        Tensor lds = woodflow.core.Tensors.own(torch.linalg_slogdet(torch.stack(
                new org.bytedeco.pytorch.TensorVector(capacitances))).get1());
        Tensor w = woodflow.core.Tensors.fromDoubles(weights, weights.length);
        return torch.dot(lds, lds.device().is_cpu() ? w : w.to(lds.device(), ScalarType.Double));
    }

    /** log|det(I_d + V U)| as a 0-dim tensor in float64. */
    public static Tensor logAbsDet(Tensor capacitance) {
        return woodflow.core.Tensors.own(torch.linalg_slogdet(capacitance).get1());
    }

    /** {@code (I_d + V U)^-1}, computed in float64. */
    public static Tensor inverse(Tensor capacitance) {
        return torch.linalg_inv(capacitance);
    }

    /** {@code (I + U V) X = X + U (V X)} for X of shape (B, n, m). */
    public static Tensor left(Tensor u, Tensor v, Tensor x) {
        return leftUpdate(x, u, v, 1);
    }

    /** {@code X (I + U V) = X + (X U) V} for X of shape (..., n). */
    public static Tensor right(Tensor x, Tensor u, Tensor v) {
        return rightUpdate(x, u, v, 1);
    }

    /** {@code (I + U V)^-1 Y = Y - U (M^-1 (V Y))}, with {@code capInv = M^-1} in the dtype of Y. */
    public static Tensor leftInverse(Tensor u, Tensor v, Tensor capInv, Tensor y) {
        return leftUpdate(y, u, capInv.mm(v), -1);
    }

    /** {@code Y (I + U V)^-1 = Y - ((Y U) M^-1) V}, with {@code capInv = M^-1} in the dtype of Y. */
    public static Tensor rightInverse(Tensor y, Tensor u, Tensor v, Tensor capInv) {
        // (Y U) M^-1 costs rows*d*d; U M^-1 first would cost n*d*d, and n (the pixels) is the large side
        Tensor rows = y.reshape(-1, y.size(y.dim() - 1));
        Tensor x = torch.addmm(rows, rows.mm(u).mm(capInv), v, woodflow.core.Tensors.s(1), woodflow.core.Tensors.s(-1));
        return x.view(y.sizes().vec().get());
    }

    /**
     * The right map applied to the columns of X: {@code (X^T (I + U V))^T = X + V^T (U^T X)} for X: (B, n, m), so a
     * transform along the middle axis needs no transpose or copy of the batch.
     */
    public static Tensor rightOnColumns(Tensor x, Tensor u, Tensor v) {
        return leftUpdate(x, v.t(), u.t(), 1);
    }

    /** The inverse of {@link #rightOnColumns}: {@code Y - V^T (M^-T (U^T Y))}, with {@code capInv = M^-1}. */
    public static Tensor rightInverseOnColumns(Tensor y, Tensor u, Tensor v, Tensor capInv) {
        return leftUpdate(y, v.t(), capInv.t().mm(u.t()), -1);
    }

    /** {@code X + alpha U (W X)} for X: (B, n, m), U: n x d, W: d x n. */
    private static Tensor leftUpdate(Tensor x, Tensor u, Tensor w, double alpha) {
        if (x.dim() != 3) return x.add(u.matmul(w.matmul(x)).mul(woodflow.core.Tensors.s(alpha)));
        long b = x.size(0);
        Tensor wx = torch.bmm(w.expand(b, w.size(0), w.size(1)), x);
        return torch.baddbmm(x, u.expand(b, u.size(0), u.size(1)), wx, woodflow.core.Tensors.s(1),
                woodflow.core.Tensors.s(alpha));
    }

    /** {@code X + alpha (X U) W} for X: (..., n), U: n x d, W: d x n, on X flattened to rows. */
    private static Tensor rightUpdate(Tensor x, Tensor u, Tensor w, double alpha) {
        Tensor rows = x.reshape(-1, x.size(x.dim() - 1));
        Tensor y = torch.addmm(rows, rows.mm(u), w, woodflow.core.Tensors.s(1), woodflow.core.Tensors.s(alpha));
        return y.view(x.sizes().vec().get());
    }
}
