package woodflow.cli;

import picocli.CommandLine.Command;
import woodflow.core.Choice;
import woodflow.core.Choices;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.ImageSource;
import woodflow.data.Splits;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Checkpoint;
import woodflow.train.Evaluator;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow eval}: bits per dimension of a checkpoint over a whole split. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Report the bits per dimension of a checkpoint over a whole data split (fixed dequantisation "
                + "noise).", "Example: woodflow eval --checkpoint runs/fm"})
public final class EvalCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    CheckpointOption checkpoint;

    /** Which of a run's data sets to score. */
    enum Split implements Choice {
        TEST, TRAIN;

        @Override
        public String toString() {
            return label();
        }

        static Split parse(String name) {
            return Choices.parse(Split.class, name, "--split");
        }

        ImageSource of(Splits data) {
            return this == TEST ? data.test() : data.train();
        }
    }

    @Option(names = "--split", defaultValue = "test", description = "test (default) or train.")
    Split split;

    @Option(names = "--limit", description = "Only the first N images.")
    Integer limit;

    @Option(names = "--batch", defaultValue = "100", description = "Images per batch (default 100).")
    int batch;

    @Option(names = "--data-path", description = "Where the data set lives (overrides the checkpoint's).")
    String dataPath;

    @Option(names = "--noise-seed", description = "Seed of the dequantisation noise (default: the run's eval seed).")
    Long noiseSeed;

    @Mixin
    PrecisionOption precision;

    @Mixin
    WeightsOption weights;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        Path file = checkpoint.resolve();
        Checkpoint c = Checkpoint.read(file);
        MultiScaleFlow model = precision.apply(c.model(common.device, weights.orDefault()));
        RunConfig cfg = c.config();
        cfg = cfg.withData(Runs.withDataPath(cfg.data(), dataPath));
        try (Splits data = Runs.open(cfg)) {
            ImageSource src = split.of(data);
            int n = limit == null ? src.size() : Math.min(limit, src.size());
            long t0 = System.nanoTime();
            double bpd = Evaluator.meanBitsPerDim(model, src, n, cfg.data().nBits(), batch,
                    noiseSeed != null ? noiseSeed : cfg.train().evalSeed());
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%s bpd %.4f over %d images (%s, iteration %d, %s, weights %s, %.1f s)%n",
                    split, bpd, n, file, c.state().iteration(), precision.orFp32(),
                    c.describeWeights(weights.orDefault()), secs);
            System.out.println("data: " + src.describe());
            if (model.classConditional()) {
                System.out.println("class-conditional: each image scored given its own class, -log2 p(x | y) per "
                        + "dimension (classes " + String.join(", ", model.classes()) + ")");
            }
        }
        return 0;
    }
}
