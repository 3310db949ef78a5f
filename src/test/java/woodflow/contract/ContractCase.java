package woodflow.contract;

import woodflow.core.Module;
import woodflow.core.Transform;

import java.util.function.Supplier;

/**
 * One entry of the shared transform contract: a name, a factory building the module in float64 (called after the
 * test seeds libtorch's generator), and the input shape (batch first).
 */
public record ContractCase(String name, Supplier<? extends Module> factory, long... shape) {
    public Module build() {
        return factory.get();
    }

    /** The bijection under test: the module itself, or a model viewed as x -> all latents. */
    public static Transform asTransform(Module m) {
        if (m instanceof woodflow.model.MultiScaleFlow f) return f.asTransform();
        return (Transform) m;
    }

    @Override
    public String toString() {
        return name;
    }
}
