package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.train.Backprop;

/** {@code --backprop} for a command that trains (train, bench train): overrides the config's {@code train.backprop}. */
public class BackpropOption {
    @Option(names = "--backprop", description = "standard or invertible (recompute activations from inverses: "
            + "bounded memory; default: the config's).")
    Backprop backprop;

    /** The mode given, or null for the config's. */
    Backprop orConfig() {
        return backprop;
    }
}
