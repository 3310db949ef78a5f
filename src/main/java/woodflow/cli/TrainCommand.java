package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import woodflow.data.Splits;
import woodflow.distributed.DistConfig;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.distributed.LocalLauncher;
import woodflow.report.RunReport;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;
import woodflow.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow train}: trains a model from a preset or config file into a run folder. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a flow from a preset or a config file, writing checkpoints, metrics, samples and a "
                + "report to a run folder.",
                "Example: woodflow train --preset fmnist-woodbury --iterations 600 --out runs/fm"})
public final class TrainCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--preset", description = "A named preset (see `woodflow presets`).")
    String preset;

    @Option(names = "--config", description = "A YAML/JSON run config file (copy a preset with `woodflow presets "
            + "--show NAME` and edit it).")
    Path config;

    @Option(names = "--out", description = "Run folder (default: runs/PRESET).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its latest intact checkpoint.")
    boolean resume;

    @Option(names = "--iterations", description = "Total training iterations (overrides the config).")
    Integer iterations;

    @Option(names = "--batch", description = "Batch size (overrides the config).")
    Integer batch;

    @Option(names = "--seed", description = "Random seed for initialisation, data order and noise.")
    Long seed;

    @Mixin
    PrecisionOption precision;

    @Mixin
    BackpropOption backprop;

    @Option(names = "--eval-every", description = "Evaluate test bpd every N iterations.")
    Integer evalEvery;

    @Option(names = "--checkpoint-every", description = "Write a checkpoint every N iterations.")
    Integer checkpointEvery;

    @Option(names = "--log-every", description = "Print and record the training bpd every N iterations (overrides "
            + "the config; a short run with few log lines has a learning curve of few points).")
    Integer logEvery;

    @Option(names = "--ema", description = "Keep a moving average of the weights with this decay (e.g. 0.999; 0 "
            + "turns it off): evaluation, samples and the report use it (overrides train.ema).")
    Double ema;

    @Option(names = "--schedule", description = "The learning-rate schedule: constant, exponential (x0.95 per epoch "
            + "down to 1/100, as the official code) or cosine (to 1/100 over the run); overrides train.schedule, "
            + "whose YAML form also sets decay and floor.")
    woodflow.train.LrSchedule.Kind schedule;

    @Mixin
    DataOptions data;

    @Option(names = "--no-report", description = "Skip report.html and the final sample grids.")
    boolean noReport;

    @Option(names = "--quiet", description = "Print only the final summary.")
    boolean quiet;

    @Option(names = "--nproc", description = "Data-parallel training on this machine: start N ranks (child JVMs, each "
            + "with its share of the threads) on 127.0.0.1; rank 0's output is shown, rank K's goes to OUT/logs/"
            + "rank-K.log.")
    Integer nproc;

    @Option(names = "--rank", description = "This process's rank in a data-parallel group (default: $RANK).")
    Integer rank;

    @Option(names = "--world-size", description = "Number of ranks in the group (default: $WORLD_SIZE; 1 trains "
            + "alone).")
    Integer worldSize;

    @Option(names = "--master-addr", description = "Address of rank 0 (default: $MASTER_ADDR, else 127.0.0.1).")
    String masterAddr;

    @Option(names = "--master-port", description = "Port of rank 0's rendezvous store (default: $MASTER_PORT, else "
            + DistConfig.DEFAULT_PORT + ").")
    Integer masterPort;

    @Option(names = "--no-overlap", description = "Data-parallel: average the gradients after each backward instead "
            + "of starting each bucket's all-reduce while the backward runs (the same numbers; to measure the overlap).")
    boolean noOverlap;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        Path dir = out != null ? out : Path.of("runs", preset != null ? preset : "run");
        RunConfig cfg;
        if (resume && Files.exists(dir.resolve("config.yaml")) && preset == null && config == null) {
            cfg = RunConfig.read(dir.resolve("config.yaml"));
        } else if (preset != null && config != null) {
            throw new IllegalArgumentException("give either --preset or --config, not both");
        } else if (preset != null) {
            cfg = Presets.load(preset);
        } else if (config != null) {
            cfg = RunConfig.read(config);
        } else {
            throw new IllegalArgumentException("say what to train: --preset NAME (see `woodflow presets`) or "
                    + "--config FILE" + (resume ? ", or --resume with an --out folder that holds a run" : ""));
        }
        cfg = applyOverrides(cfg);
        if (nproc != null) {
            if (rank != null || worldSize != null) {
                throw new IllegalArgumentException("--nproc starts its own ranks: leave out --rank and --world-size");
            }
            LocalLauncher.checkGroup(nproc, cfg.train().batch());
            int threads = common.threads != null ? common.threads : Runtime.getRuntime().availableProcessors();
            return new LocalLauncher(nproc, threads, dir, System.err).run(Main.class.getName(), childArgs());
        }
        String source = preset != null ? "--preset " + preset : config != null ? "--config " + config
                : dir.resolve("config.yaml").toString();
        DistConfig group = DistConfig.resolve(System.getenv(), rank, worldSize, masterAddr, masterPort);
        if (group == null) {
            return TrainCommand.runAndReport(cfg, dir, resume, noReport, quiet, source, common.device, null, true);
        }
        try (DistContext ctx = DistContext.join(group, common.device)) {
            return TrainCommand.runAndReport(cfg, dir, resume, noReport, quiet, source, common.device, ctx,
                    !noOverlap);
        }
    }

    /** This command's arguments for a rank of {@code --nproc}: the same, without --nproc and --threads. */
    private List<String> childArgs() {
        return LocalLauncher.rankArgs(spec.commandLine().getParseResult().originalArgs(), "train");
    }

    RunConfig applyOverrides(RunConfig cfg) {
        if (iterations != null && iterations < 1) {
            throw new IllegalArgumentException("--iterations must be at least 1, got " + iterations);
        }
        TrainConfig t = cfg.train().toBuilder().iterations(iterations).batch(batch).seed(seed).ema(ema)
                .schedule(schedule == null ? null : new woodflow.train.LrSchedule(schedule, null, null))
                .precision(precision.orConfig()).backprop(backprop.orConfig()).evalEvery(evalEvery)
                .checkpointEvery(checkpointEvery).logEvery(logEvery).build();
        return cfg.withTrain(t).withData(data.apply(cfg.data())).validate();
    }

    /** The warning a run with more than 1% of its steps skipped ends with, or null. */
    static String skippedWarning(long skipped, long iterations, Path config) {
        if (iterations <= 0 || skipped <= 0.01 * iterations) return null;
        return String.format(Locale.ROOT, "warning: %d of %d steps (%.1f%%) were skipped as non-finite. Likely causes: "
                + "a learning rate too high for this model (lower train.lr, add train.warmup or train.clip), bad "
                + "values in the data, or a fast path computing wrong numbers on this CPU (run `woodflow doctor "
                + "--config %s`)", skipped, iterations, 100.0 * skipped / iterations, config);
    }

    /**
     * Trains on {@code device}, writes the report and prints a summary (shared with {@code demo}); as one rank of
     * {@code group} when it is not null: only rank 0 writes the run folder and report, and with {@code overlap} the
     * gradient all-reduces start during the backward.
     */
    static int runAndReport(RunConfig cfg, Path dir, boolean resume, boolean noReport, boolean quiet,
                            String configSource, String device, DistContext group, boolean overlap) throws Exception {
        long t0 = System.nanoTime();
        try (Splits data = Runs.open(cfg)) {
            boolean root = group == null || group.rank() == 0;
            String dataAtStart = data.train().describe();
            Trainer trainer = new Trainer(cfg, dir, data.train(), data.test(), System.out, quiet)
                    .holdout(data.holdout()).configSource(configSource).device(device);
            if (group != null) {
                trainer.distributed(group).overlap(overlap);
                System.out.printf(Locale.ROOT, "data-parallel: rank %d of %d (master %s:%d), this rank's batch %d "
                                + "of %d%n", group.rank(), group.worldSize(), group.config().masterAddr(),
                        group.config().masterPort(), cfg.train().batch() / group.worldSize(), cfg.train().batch());
            }
            Trainer.Result r = trainer.run(resume);
            trainer.finish();
            if (group != null) {
                GradientReducer.Stats rs = trainer.reducerStats();
                System.out.printf(Locale.ROOT, "data-parallel: %.1f s of %.1f s training waiting for gradient "
                        + "all-reduces (%s)%n", group.allreduceSeconds(), r.trainSeconds(), rs == null
                        ? (overlap ? "after each backward: the gradient fits one bucket, nothing to overlap"
                                : "after each backward, --no-overlap")
                        : String.format(Locale.ROOT, "%d bucket%s, %.0f%% started from the backward's gradient "
                                + "hooks, on average %.1f ms before the step waited for it", rs.buckets(), rs.buckets() == 1 ? "" : "s",
                                100 * rs.overlappedShare(), 1e3 * rs.meanHeadStartSeconds()));
                if (!root) {
                    System.out.printf(Locale.ROOT, "rank %d: done: %d iterations, test bpd %.4f%n", group.rank(),
                            r.iterations(), r.testBpd());
                    return 0;
                }
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "done: %d iterations, test bpd %.4f, best %.4f, %.1f images/s, %d skipped "
                    + "steps%n", r.iterations(), r.testBpd(), r.bestTestBpd(), r.imagesPerSecond(), r.skippedSteps());
            String skippedWarning = skippedWarning(r.skippedSteps(), r.iterations(), dir.resolve("config.yaml"));
            if (skippedWarning != null) System.err.println(skippedWarning);
            // images that failed to decode during training (data.on_bad_image: skip) show in the description
            if (!data.train().describe().equals(dataAtStart)) System.out.println("data: " + data.train().describe());
            if (!noReport) {
                RunReport.Written report = RunReport.write(dir, trainer.evaluationModel(), trainer.config(), data.train(), data.test(), r,
                        wall);
                System.out.println("report: " + report.report());
                if (report.recognisable() != null) System.out.println(report.recognisable().line());
                if (report.byClass() != null) System.out.println(report.byClass().line());
            }
            System.out.println("run folder: " + dir);
        }
        return 0;
    }
}
