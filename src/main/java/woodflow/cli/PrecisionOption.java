package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.core.Precision;

/** {@code --precision} of the commands that run a trained model (eval, sample). */
public class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32",
            description = "fp32 (default) or bf16-mixed: the coupling and prior networks in bfloat16, the invertible "
                    + "path in float32.")
    Precision precision;

    /** {@code model} in the chosen precision. */
    <M extends woodflow.core.Module> M apply(M model) {
        model.precision(precision);
        return model;
    }
}
