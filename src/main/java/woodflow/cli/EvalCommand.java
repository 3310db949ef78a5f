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
import woodflow.train.EvalLog;
import woodflow.train.ImportanceWeightedBound;
import woodflow.train.RunConfig;

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

    @Option(names = "--samples", defaultValue = "1", paramLabel = "K", description = "Also report the K-sample "
            + "importance-weighted bound: K dequantisations per image, log-mean-exp (default 1: the one-sample figure "
            + "only).")
    int samples;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as a JSON object to FILE.")
    Path json;

    @Mixin
    PrecisionOption precision;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        if (samples < 1) throw new IllegalArgumentException("--samples must be at least 1, got " + samples);
        Path file = checkpoint.resolve();
        if (json != null) Runs.checkOutput(json, "--json", file);
        Checkpoint c = Checkpoint.read(file);
        MultiScaleFlow model = precision.apply(c.model(common.device));
        RunConfig cfg = c.config();
        cfg = cfg.withData(Runs.withDataPath(cfg.data(), dataPath));
        long seed = noiseSeed != null ? noiseSeed : cfg.train().evalSeed();
        try (Splits data = Runs.open(cfg)) {
            ImageSource src = split.of(data);
            int n = limit == null ? src.size() : Math.min(limit, src.size());
            long t0 = System.nanoTime();
            boolean terminal = samples > 1 && System.console() != null; // a draw counter, on a terminal only
            ImportanceWeightedBound.Result r = ImportanceWeightedBound.evaluate(model, src, n, cfg.data().nBits(),
                    batch, seed, samples, terminal ? (k, bpd) -> System.err.printf(Locale.ROOT,
                            "\rdraw %d of %d: %.4f bpd", k + 1, samples, bpd) : null);
            double secs = (System.nanoTime() - t0) / 1e9;
            if (terminal) System.err.print("\r" + " ".repeat(40) + "\r");
            System.out.printf(Locale.ROOT, "%s bpd %.4f over %d images (%s, iteration %d, %s, %.1f s)%n", split,
                    r.oneSampleBpd(), n, file, c.state().iteration(), precision.orFp32(), secs);
            String dequantization = model.dequantizer().toString();
            if (samples > 1) {
                System.out.printf(Locale.ROOT, "%d-sample bound %.4f bpd (importance-weighted: log-mean-exp over %d "
                                + "dequantisations per image; one sample %.4f, mean of the %d one-sample figures %.4f; "
                                + "%s dequantisation)%n", samples, r.boundBpd(), samples, r.oneSampleBpd(), samples,
                        r.meanOfSamplesBpd(), dequantization);
            }
            System.out.println("data: " + src.describe());
            Path run = EvalLog.runFolderOf(file);
            var record = EvalLog.record(new EvalLog.Setting(run != null ? run.relativize(file.toAbsolutePath()
                            .normalize()).toString() : file.toString(), c.state().iteration(), split.label(), batch,
                    seed, precision.orFp32().label(), dequantization), r, secs);
            if (json != null) {
                woodflow.io.AtomicFiles.writeString(json, record.toPrettyString() + "\n");
                System.out.println("wrote " + json);
            }
            if (run != null) {
                try {
                    System.out.println("recorded in " + EvalLog.append(run, record) + " (the dashboard's run page "
                            + "lists it)");
                } catch (java.io.IOException e) {
                    System.out.println("warning: could not record the evaluation in " + run.resolve(EvalLog.FILE)
                            + ": " + e.getMessage());
                }
            }
        }
        return 0;
    }
}
