package woodflow.contract;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowResult;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.core.FlowLayer;
import woodflow.core.Transform;
import woodflow.layers.ClassCondition;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A class-conditional layer as a plain transform for the contract: every call runs with fixed soft labels, rows of
 * weights over the classes that differ per sample and leave no class out (so every row of a class embedding gets a
 * gradient). The layer is the child "inner", so its parameters and state are the layer's own.
 */
final class Conditioned extends FlowLayer {
    private final ClassCondition condition;
    private final Transform inner;

    Conditioned(ClassCondition condition, Module layer) {
        this.condition = condition;
        this.inner = (Transform) child("inner", layer);
    }

    /** A factory for a contract case: {@code layer} built with a condition on {@code classes} classes. */
    static Function<woodflow.core.Init, Module> of(int classes,
            java.util.function.BiFunction<woodflow.core.Init, ClassCondition, Module> layer) {
        return init -> {
            ClassCondition c = new ClassCondition(java.util.stream.IntStream.range(0, classes)
                    .mapToObj(i -> "class" + i).toList());
            return new Conditioned(c, layer.apply(init, c));
        };
    }

    /** Soft labels for a batch of {@code b} over {@code k} classes, in the dtype of {@code like}: positive, rows sum to 1. */
    static Tensor softLabels(long b, int k, Tensor like) {
        double[] w = new double[(int) b * k];
        for (int i = 0; i < b; i++) {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += w[i * k + j] = 1 + ((i * 7 + j * 3) % 5);
            for (int j = 0; j < k; j++) w[i * k + j] /= sum;
        }
        return Tensors.fromDoubles(w, b, k).to(like.device(), Tensors.dtype(like));
    }

    static <T> T run(ClassCondition condition, Tensor x, Supplier<T> call) {
        try (ClassCondition.Scope s = condition.set(softLabels(x.size(0), condition.classes(), x))) {
            return call.get();
        }
    }

    @Override
    public FlowResult forward(Tensor x) {
        return run(condition, x, () -> inner.forward(x));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        return run(condition, y, () -> inner.inverse(y));
    }
}
