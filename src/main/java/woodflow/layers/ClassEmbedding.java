package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.Init;
import woodflow.core.Module;

/**
 * A learned projection of the class labels onto a prior's parameters: Glow's {@code ycond} (Kingma &amp; Dhariwal
 * 2018, a zero-initialised linear map of the one-hot label added to the top prior's mean and log-std), here for every
 * position (as normflows' class-conditional Gaussian) and for the split priors too:
 * <pre>
 *   shift(y) = y W,     y the (B, K) labels, W a (K, n) matrix starting at 0, reshaped to (B, shape)
 * </pre>
 * With one-hot labels a row of W is the class's own shift of the prior's mean and log-std; zero at the start, so a
 * conditional model starts as the unconditional one.
 */
public final class ClassEmbedding extends Module {
    private final ClassCondition condition;
    private final Tensor weight;
    private final long[] shape;

    /** The shift of one sample has {@code shape}; the labels come from {@code condition}. */
    public ClassEmbedding(ClassCondition condition, Init init, long... shape) {
        this.condition = condition;
        this.shape = shape.clone();
        long n = 1;
        for (long s : shape) n *= s;
        weight = param("weight", init.zeros(condition.classes(), n));
    }

    /** The shift for the current labels, {@code (B, shape)}; {@code batch} is checked against the labels'. */
    public Tensor shift(long batch) {
        Tensor y = condition.labels();
        if (y.size(0) != batch) {
            throw new IllegalArgumentException("class labels for " + y.size(0) + " samples, but the batch has " + batch);
        }
        long[] full = new long[shape.length + 1];
        full[0] = batch;
        System.arraycopy(shape, 0, full, 1, shape.length);
        return y.to(woodflow.core.Tensors.dtype(weight)).mm(weight).reshape(full);
    }
}
