package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.core.Precision;

/** {@code --precision} of the commands that run a trained model (eval, sample). */
public class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32",
            description = "fp32 (default) or bf16-mixed: the coupling and prior networks in bfloat16, the invertible "
                    + "path in float32.")
    Precision.Mode precision;

    /** Switches the engine to the chosen precision; an unknown name is an error that names it. */
    void apply() {
        Precision.set(precision);
    }
}
