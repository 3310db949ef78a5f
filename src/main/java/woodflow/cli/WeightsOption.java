package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.train.Weights;

/**
 * {@code --weights raw|ema}, a mixin of the commands that run a trained model: the trained weights or their moving
 * average ({@code train.ema}). Not given, a command takes the averaged weights when the checkpoint holds them.
 */
final class WeightsOption {
    @Option(names = "--weights", description = "raw (as trained) or ema (the moving average of the weights, kept when "
            + "train.ema is on). Default: ema when the checkpoint holds it, else raw.")
    Weights weights;

    /** The weights asked for, or null for the checkpoint's default. */
    Weights orDefault() {
        return weights;
    }
}
