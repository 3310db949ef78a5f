package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.data.DataConfig;

/** {@code --data-path}, {@code --train-limit}, {@code --test-limit}: the overrides of a run's data section. */
public class DataOptions {
    @Option(names = "--data-path", description = "Where the data set lives (overrides data.path).")
    String dataPath;

    @Option(names = "--train-limit", description = "Use only the first N training images.")
    Integer trainLimit;

    @Option(names = "--test-limit", description = "Use only the first N test images.")
    Integer testLimit;

    /** {@code d} with the options given applied (the path refused for data that reads no files). */
    DataConfig apply(DataConfig d) {
        d = d.withDataPath(dataPath);
        if (trainLimit != null || testLimit != null) {
            d = d.withLimits(trainLimit != null ? trainLimit : d.trainLimit(), testLimit != null ? testLimit
                    : d.testLimit());
        }
        return d;
    }
}
