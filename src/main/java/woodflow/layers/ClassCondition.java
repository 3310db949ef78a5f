package woodflow.layers;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * The classes a class-conditional model is run for, one row per sample: a {@code (B, K)} tensor of one-hot labels
 * (or of soft labels, weights over the K classes that sum to 1, to move between classes). The model owns one and its
 * priors share it ({@link ClassEmbedding}); the caller sets it for the duration of a call with
 * {@link #set(Tensor)} in a try-with-resources block, so the {@link woodflow.core.Transform} methods keep their one
 * argument and the labels never outlive the call:
 * <pre>
 *   try (ClassCondition.Scope c = model.conditionedOn(labels)) {
 *       Tensor bpd = model.bitsPerDim(x, nBins);        // log p(x | y)
 *   }
 * </pre>
 */
public final class ClassCondition {
    private final List<String> names;
    private Tensor labels;

    public ClassCondition(List<String> names) {
        this.names = List.copyOf(names);
    }

    /** The class names, in label order. */
    public List<String> names() {
        return names;
    }

    public int classes() {
        return names.size();
    }

    /** The labels set for the current call, {@code (B, K)}; an error when none are set. */
    public Tensor labels() {
        if (labels == null) {
            throw new IllegalStateException("this model is class-conditional (classes " + String.join(", ", names)
                    + "): it needs the class of each image, and none was given");
        }
        return labels;
    }

    /** Sets {@code labels} ({@code (B, K)}) until the returned scope closes, which puts back what was set before. */
    public Scope set(Tensor labels) {
        if (labels.dim() != 2 || labels.size(1) != names.size()) {
            throw new IllegalArgumentException("class labels must be (batch, " + names.size() + "), got "
                    + woodflow.core.Tensors.shapeString(labels));
        }
        Tensor before = this.labels;
        this.labels = labels;
        return () -> this.labels = before;
    }

    /** The span of a {@link #set}: closing it restores the labels set before. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
