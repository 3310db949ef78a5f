package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.DataSplit;
import woodflow.train.Checkpoint;
import woodflow.train.Evaluator;

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

    @Option(names = "--split", defaultValue = "test", description = "test (default) or train.")
    DataSplit split;

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
        Evaluator.Report r = Evaluator.ofCheckpoint(c, split, limit, batch, dataPath, noiseSeed, precision.orFp32(),
                common.device, weights.orDefault());
        System.out.printf(Locale.ROOT, "%s bpd %s over %d images (%s, iteration %d, %s, weights %s, %.1f s)%n", split,
                woodflow.core.Figures.computed(r.bpd()), r.images(), file, c.state().iteration(), precision.orFp32(),
                c.describeWeights(weights.orDefault()), r.seconds());
        System.out.println("data: " + r.data());
        var m = c.config().model();
        if (m.classConditional()) {
            System.out.println("class-conditional: each image scored given its own class, -log2 p(x | y) per "
                    + "dimension (classes " + String.join(", ", m.classes()) + ")");
        }
        return 0;
    }
}
