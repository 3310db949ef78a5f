package woodflow.train;

import woodflow.core.Init;
import woodflow.data.DataConfig;
import woodflow.data.Dequantization;
import woodflow.model.MultiScaleFlow;
import woodflow.model.VariationalDequantizer;

/**
 * The model a run config describes: the flow of {@code model}, with the dequantiser {@code data.dequantization} names
 * ({@link VariationalDequantizer} for {@code variational}). Everything that builds a run's model (training, a
 * checkpoint, inspect, doctor, import, the benchmarks) builds it here, so the two halves of the config never part.
 */
public final class Models {
    private Models() {}

    /** The run's model, freshly initialised from libtorch's default generator (seed it first). */
    public static MultiScaleFlow build(RunConfig config, Init init) {
        return new MultiScaleFlow(config.model(), dequantizer(config.data()), init);
    }

    /** The variational dequantiser's size, or null for uniform dequantisation. */
    public static VariationalDequantizer.Spec dequantizer(DataConfig data) {
        if (data.dequantizationOrDefault() != Dequantization.VARIATIONAL) return null;
        return new VariationalDequantizer.Spec(
                data.dequantizerSteps() != null ? data.dequantizerSteps() : VariationalDequantizer.Spec.DEFAULT_STEPS,
                data.dequantizerHidden() != null ? data.dequantizerHidden() : VariationalDequantizer.Spec.DEFAULT_HIDDEN);
    }
}
