package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.core.Module;
import woodflow.core.Precision;

/**
 * {@code --precision}, the one declaration of it: for a command that trains, it overrides the config's
 * {@code train.precision}; for one that runs a trained model (eval, sample), it is the model's precision (fp32 when
 * not given).
 */
public class PrecisionOption {
    @Option(names = "--precision", description = "fp32 or bf16-mixed: the coupling and prior networks in bfloat16, "
            + "the invertible path in float32 (default: the config's; fp32 for a trained model).")
    Precision precision;

    /** The precision given, or null for the config's. */
    Precision orConfig() {
        return precision;
    }

    /** The precision to run a trained model in: the one given, else fp32. */
    Precision orFp32() {
        return precision != null ? precision : Precision.FP32;
    }

    /** {@code model} in {@link #orFp32()}. */
    <M extends Module> M apply(M model) {
        model.precision(orFp32());
        return model;
    }
}
