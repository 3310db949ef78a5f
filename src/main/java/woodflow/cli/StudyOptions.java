package woodflow.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.compare.Bases;
import woodflow.compare.Budget;
import woodflow.compare.Study;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;

import java.nio.file.Path;
import java.util.List;

/** The options {@code compare} and {@code ablate} share: the base config, its overrides, the budget and seeds. */
public class StudyOptions {
    @Option(names = "--data", description = "The base: a data set's Woodbury preset (fmnist, embedded, cifar10, "
            + "imagenet32, imagenet64, lsun96, celeba64, ...).")
    String data;

    @Option(names = "--base", description = "The base: any preset name, or a YAML/JSON run config file.")
    String base;

    @Option(names = "--budget", paramLabel = "N", description = "Train every run for N iterations.")
    Integer budget;

    @Option(names = "--minutes", paramLabel = "M", description = "Train every run for M minutes of training steps "
            + "(a fair-time comparison) instead of a number of iterations.")
    Double minutes;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "1", description = "Seeds per variant: the base's "
            + "seed and the N-1 next ones (default 1).")
    int seeds;

    @Option(names = "--out", description = "The study's folder (runs, tables, plots, report).")
    Path out;

    @Option(names = "--eval-every", description = "Evaluate test bpd every N iterations (default: the base's).")
    Integer evalEvery;

    @Option(names = "--batch", description = "Batch size (default: the base's).")
    Integer batch;

    @Mixin
    PrecisionOption precision;

    @Mixin
    DataOptions dataOptions;

    /** The base config with the overrides applied. */
    RunConfig baseConfig() {
        RunConfig cfg = Bases.resolve(data, base);
        TrainConfig t = cfg.train().toBuilder().batch(batch).precision(precision.orConfig())
                .evalEvery(evalEvery).checkpointEvery(evalEvery).build();
        return cfg.withTrain(t).withData(dataOptions.apply(cfg.data())).validate();
    }

    /** The budget: --budget or --minutes, else the base's iteration count. */
    Budget budget(RunConfig base) {
        if (budget != null && minutes != null) {
            throw new IllegalArgumentException("give either --budget (iterations) or --minutes, not both");
        }
        if (minutes != null) return Budget.ofMinutes(minutes);
        return Budget.ofIterations(budget != null ? budget : base.train().iterations());
    }

    List<Long> seedList(RunConfig base) {
        return Study.seeds(base.train().seed(), seeds);
    }

    /**
     * The study folder (--out, else runs/KIND-DATA), checked by the output rule: new, empty or a study, not on or in
     * the base config or the data.
     */
    Path outOr(String kind, RunConfig config) {
        Path dir = out;
        if (dir == null) {
            String what = base != null ? Path.of(base).getFileName().toString().replaceAll("\\.(ya?ml|json)$", "")
                    : data != null ? data : "study";
            dir = Path.of("runs", kind + "-" + what);
        }
        return Study.checkOut("--out", dir, Presets.fileOf(base), config);
    }
}
