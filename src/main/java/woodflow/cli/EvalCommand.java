package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.DataSplit;
import woodflow.train.Checkpoint;
import woodflow.core.Figures;
import woodflow.io.OutputGuard;
import woodflow.train.EvalLog;
import woodflow.train.DrawProgress;
import woodflow.train.Evaluator;
import woodflow.train.ImportanceWeightedBound;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow eval}: bits per dimension of a checkpoint over a whole split. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Report the bits per dimension of a checkpoint over a whole data split (fixed dequantisation "
                + "noise), and with --samples K the K-sample importance-weighted bound beside it. The result is "
                + "recorded in the run folder's evals.jsonl.", "Example: woodflow eval --checkpoint runs/fm --samples 16"})
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

    @Option(names = "--samples", defaultValue = "1", paramLabel = "K", description = "Also report the K-sample "
            + "importance-weighted bound: K dequantisations per image, log-mean-exp (default 1: the one-sample figure "
            + "only; at most 4096, each sample being one evaluation of the split; a progress bar on a terminal).")
    int samples;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as a JSON object to FILE.")
    Path json;

    @Mixin
    PrecisionOption precision;

    @Mixin
    WeightsOption weights;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        if (samples < 1) throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
        if (samples > ImportanceWeightedBound.MAX_SAMPLES) {
            throw new IllegalArgumentException("--samples " + samples + " is above the maximum of "
                    + ImportanceWeightedBound.MAX_SAMPLES + " (Flow++'s K; each sample is one evaluation of the whole "
                    + "split): give at most --samples " + ImportanceWeightedBound.MAX_SAMPLES);
        }
        Path file = checkpoint.resolve();
        if (json != null) {
            OutputGuard.file("--json", json, EvalLog.JSON_FILE, false, OutputGuard.Input.of("--checkpoint", file));
        }
        Checkpoint c = Checkpoint.read(file);
        Evaluator.Report r;
        try (DrawProgress bar = DrawProgress.onTerminal(samples)) { // a bar over the draws, on a terminal only
            r = Evaluator.ofCheckpoint(c, split, limit, batch, dataPath, noiseSeed, precision.orFp32(), common.device,
                    weights.orDefault(), samples, bar);
        }
        String usedWeights = c.describeWeights(weights.orDefault());
        System.out.printf(Locale.ROOT, "%s bpd %s over %d images (%s, iteration %d, %s, weights %s, %.1f s)%n", split,
                Figures.computed(r.bpd()), r.images(), file, c.state().iteration(), precision.orFp32(), usedWeights,
                r.seconds());
        ImportanceWeightedBound.Result k = r.samples();
        if (samples > 1) {
            System.out.printf(Locale.ROOT, "%d-sample bound %s bpd (importance-weighted: log-mean-exp over %d "
                            + "dequantisations per image; one sample %s, mean of the %d one-sample figures %s; "
                            + "%s dequantisation)%n", samples, Figures.computed(k.boundBpd()), samples,
                    Figures.computed(k.oneSampleBpd()), samples, Figures.computed(k.meanOfSamplesBpd()),
                    r.dequantization());
        }
        System.out.println("data: " + r.data());
        var m = c.config().model();
        if (m.classConditional()) {
            System.out.println("class-conditional: each image scored given its own class, -log2 p(x | y) per "
                    + "dimension (classes " + String.join(", ", m.classes()) + ")");
        }
        Path run = EvalLog.runFolderOf(file);
        var record = EvalLog.record(new EvalLog.Setting(run != null ? run.relativize(file.toAbsolutePath()
                        .normalize()).toString() : file.toString(), c.state().iteration(), split.label(), batch,
                r.noiseSeed(), precision.orFp32().label(), r.dequantization(), usedWeights), k, r.seconds());
        if (json != null) {
            woodflow.io.AtomicFiles.writeString(json, record.toPrettyString() + "\n");
            System.out.println("wrote " + json);
        }
        if (run != null) {
            try {
                System.out.println("recorded in " + EvalLog.append(run, record) + " (the dashboard's run page lists "
                        + "it)");
            } catch (java.io.IOException e) {
                System.out.println("warning: could not record the evaluation in " + run.resolve(EvalLog.FILE) + ": "
                        + e.getMessage());
            }
        }
        return 0;
    }
}
