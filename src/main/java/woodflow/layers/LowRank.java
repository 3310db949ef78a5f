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
 */
public final class LowRank {
    private LowRank() {}

    /** {@code I_d + V U} in float64 (differentiable in U and V). */
    public static Tensor capacitance(Tensor u, Tensor v) {
        Tensor ud = u.to(ScalarType.Double), vd = v.to(ScalarType.Double);
        Tensor m = vd.matmul(ud);
        return m.add(torch.eye(m.size(0), woodflow.core.Tensors.optionsLike(m)));
    }

    /** log|det(I_d + V U)| as a 0-dim tensor in float64. */
    public static Tensor logAbsDet(Tensor capacitance) {
        return woodflow.core.Tensors.own(torch.linalg_slogdet(capacitance).get1());
    }

    /** {@code (I_d + V U)^-1}, computed in float64. */
    public static Tensor inverse(Tensor capacitance) {
        return torch.linalg_inv(capacitance);
    }

    public static Tensor left(Tensor u, Tensor v, Tensor x) {
        return x.add(u.matmul(v.matmul(x)));
    }

    public static Tensor right(Tensor x, Tensor u, Tensor v) {
        return x.add(x.matmul(u).matmul(v));
    }

    /** {@code (I + U V)^-1 Y = Y - U (M^-1 (V Y))}, with {@code capInv = M^-1} in the dtype of Y. */
    public static Tensor leftInverse(Tensor u, Tensor v, Tensor capInv, Tensor y) {
        return y.sub(u.matmul(capInv.matmul(v.matmul(y))));
    }

    /** {@code Y (I + U V)^-1 = Y - ((Y U) M^-1) V}, with {@code capInv = M^-1} in the dtype of Y. */
    public static Tensor rightInverse(Tensor y, Tensor u, Tensor v, Tensor capInv) {
        return y.sub(y.matmul(u).matmul(capInv).matmul(v));
    }
}
