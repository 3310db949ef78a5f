package woodflow.contract;

import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Transform;

import java.util.function.Function;

/**
 * One entry of the shared transform contract: a name, a factory building the module with the given {@link Init}
 * (called after the test seeds libtorch's generator), the largest error of its float32 round trip relative to the
 * input's scale (1e-4 unless its float32 conditioning is known to be worse), and the input shape (batch first).
 */
public record ContractCase(String name, Function<Init, ? extends Module> factory, double float32Tolerance,
                           long... shape) {
    public ContractCase(String name, Function<Init, ? extends Module> factory, long... shape) {
        this(name, factory, 1e-4, shape);
    }

    /** The module in float64, for the exact checks. */
    public Module build() {
        return build(Init.float64());
    }

    public Module build(Init init) {
        return factory.apply(init);
    }

    /** The bijection under test: the module itself, or a model viewed as x -> all latents. */
    public static Transform asTransform(Module m) {
        if (m instanceof woodflow.model.MultiScaleFlow f && f.classConditional()) {
            // a class-conditional model, for fixed soft labels of the batch (see Conditioned)
            Transform t = f.asTransform();
            return new Transform() {
                @Override
                public woodflow.core.FlowResult forward(org.bytedeco.pytorch.Tensor x) {
                    try (var c = f.conditionedOn(Conditioned.softLabels(x.size(0), f.classes().size(), x))) {
                        return t.forward(x);
                    }
                }

                @Override
                public woodflow.core.FlowResult inverse(org.bytedeco.pytorch.Tensor y) {
                    try (var c = f.conditionedOn(Conditioned.softLabels(y.size(0), f.classes().size(), y))) {
                        return t.inverse(y);
                    }
                }
            };
        }
        if (m instanceof woodflow.model.MultiScaleFlow f) return f.asTransform();
        if (m instanceof Transform t) return t;
        throw new IllegalArgumentException(m.getClass().getSimpleName() + " is neither a flow layer nor a model");
    }

    @Override
    public String toString() {
        return name;
    }
}
