package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.NumericalException;
import woodflow.core.Tensors;

/**
 * One factor {@code I_n + U V} of a Woodbury transformation, with {@code U: n x d} and {@code V: d x n} initialised
 * from N(0, 0.01^2), applied from the left (channel transform) or from the right (spatial, width and height
 * transforms). In evaluation mode the d x d inverse and log-det are cached until a parameter changes (detected
 * through the tensors' version counters), so sampling pays for them once.
 */
public final class LowRankFactor extends Module {
    /** log|det(I + V U)| below this is treated as singular: the inverse would amplify noise by e^18 or more. */
    static final double SINGULAR_LOG_DET = -18;

    private final Tensor u;
    private final Tensor v;
    private final int n;
    private final int d;
    private Tensor cachedInv;
    private Tensor cachedLogDet;
    private long cachedVersion = -1;

    public LowRankFactor(int n, int d, Init init) {
        if (n <= 0) throw new IllegalArgumentException("a Woodbury factor needs a positive size, got n = " + n);
        if (d <= 0) throw new IllegalArgumentException("a Woodbury latent dimension must be positive, got d = " + d);
        this.n = n;
        this.d = d;
        u = param("U", init.normal(0.01, n, d));
        v = param("V", init.normal(0.01, d, n));
    }

    public int size() {
        return n;
    }

    public int rank() {
        return d;
    }

    public Tensor u() {
        return u;
    }

    public Tensor v() {
        return v;
    }

    private boolean cacheable() {
        return !isTraining() && !org.bytedeco.pytorch.GradMode.is_enabled();
    }

    private long version() {
        return u._version() * 1_000_003L + v._version();
    }

    /** log|det(I_n + U V)| in float64 (0-dim), differentiable. */
    public Tensor logAbsDet() {
        if (cacheable()) {
            synchronized (this) { // two halves of a sampled batch may ask at once
                refresh();
                return cachedLogDet;
            }
        }
        return LowRank.logAbsDet(LowRank.capacitance(u, v));
    }

    /**
     * {@code sum_i weights[i] * log|det(I + V_i U_i)|} over the factors of one layer (0-dim, float64,
     * differentiable): one batched determinant while training, the cached ones in evaluation.
     */
    public static Tensor weightedLogAbsDet(double[] weights, LowRankFactor... factors) {
        if (factors[0].cacheable()) {
            Tensor sum = null;
            for (int i = 0; i < factors.length; i++) {
                Tensor t = factors[i].logAbsDet().mul(Tensors.s(weights[i]));
                sum = sum == null ? t : sum.add(t);
            }
            return sum;
        }
        Tensor[] caps = new Tensor[factors.length];
        for (int i = 0; i < factors.length; i++) caps[i] = LowRank.capacitance(factors[i].u, factors[i].v);
        return LowRank.weightedLogAbsDet(caps, weights);
    }

    private void refresh() {
        long ver = version();
        if (ver == cachedVersion && cachedLogDet != null) return;
        Tensor cap = LowRank.capacitance(u, v);
        Tensor ld = LowRank.logAbsDet(cap);
        // No inverse of a singular matrix (the engine would fail with its own error): inverseCapacitance reports it.
        Tensor inv = isSingular(ld.item_double()) ? null : LowRank.inverse(cap).to(Tensors.dtype(u));
        Tensors.release(cachedInv);
        Tensors.release(cachedLogDet);
        cachedInv = inv == null ? null : Tensors.keep(inv);
        cachedLogDet = Tensors.keep(ld);
        cachedVersion = ver;
    }

    /** {@code (I + V U)^-1} in the factor's dtype and {@code log|det(I + V U)|} (0-dim, float64), from one matrix. */
    public record Inverse(Tensor capInv, Tensor logAbsDet) {}

    /**
     * What an inverse needs, computed together: one {@code I + V U}, its determinant (also the singularity check)
     * and its inverse; cached in evaluation.
     *
     * @throws NumericalException when {@code I + V U} is near-singular
     */
    public Inverse inverse() {
        if (cacheable()) {
            synchronized (this) { // two halves of a sampled batch may ask at once
                refresh();
                checkSingular(cachedLogDet);
                return new Inverse(cachedInv, cachedLogDet);
            }
        }
        Tensor cap = LowRank.capacitance(u, v);
        Tensor ld = LowRank.logAbsDet(cap);
        checkSingular(ld);
        return new Inverse(LowRank.inverse(cap).to(Tensors.dtype(u)), ld);
    }

    private Tensor inverseCapacitance() {
        return inverse().capInv();
    }

    private static boolean isSingular(double logDet) {
        return !Double.isFinite(logDet) || logDet < SINGULAR_LOG_DET;
    }

    private void checkSingular(Tensor logDet) {
        double ld = logDet.item_double();
        if (isSingular(ld)) {
            throw new NumericalException("Woodbury layer " + path() + ": the matrix I + V U (" + d + "x" + d
                    + ") is near-singular (log|det| = " + ld + "), so the layer cannot be inverted reliably");
        }
    }

    public Tensor left(Tensor x) {
        return LowRank.left(u, v, x);
    }

    public Tensor right(Tensor x) {
        return LowRank.right(x, u, v);
    }

    public Tensor leftInverse(Tensor y) {
        return leftInverse(y, inverse());
    }

    public Tensor rightInverse(Tensor y) {
        return rightInverse(y, inverse());
    }

    public Tensor leftInverse(Tensor y, Inverse inv) {
        return LowRank.leftInverse(u, v, inv.capInv(), y);
    }

    public Tensor rightInverse(Tensor y, Inverse inv) {
        return LowRank.rightInverse(y, u, v, inv.capInv());
    }

    /** {@code (X^T (I + U V))^T} for X: (B, n, m): the right map along the middle axis. */
    public Tensor rightOnColumns(Tensor x) {
        return LowRank.rightOnColumns(x, u, v);
    }

    public Tensor rightInverseOnColumns(Tensor y, Inverse inv) {
        return LowRank.rightInverseOnColumns(y, u, v, inv.capInv());
    }
}
