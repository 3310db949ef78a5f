package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import woodflow.distributed.DistConfig;
import woodflow.distributed.LocalLauncher;
import woodflow.run.TrainingRun;
import woodflow.io.OutputGuard;
import woodflow.train.Presets;
import woodflow.train.RunFolder;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        if (out != null) OutputGuard.checkNotEmpty("--out", out, "runs/new");
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
        checkResumeBatch(dir);
        cfg = applyOverrides(cfg);
        RunFolder.checkOut("--out", dir, config != null ? config : preset == null ? dir.resolve("config.yaml") : null,
                cfg);
        if (nproc != null && (rank != null || worldSize != null)) {
            throw new IllegalArgumentException("--nproc starts its own ranks: leave out --rank and --world-size");
        }
        checkLauncherVariables(nproc, System.getenv());
        String source = preset != null ? "--preset " + preset : config != null ? "--config " + config
                : dir.resolve("config.yaml").toString();
        int threads = common.threads != null ? common.threads : Runtime.getRuntime().availableProcessors();
        TrainingRun.Group group = new TrainingRun.Group(nproc, rank, worldSize, masterAddr, masterPort, !noOverlap,
                threads, Main.class.getName(), nproc != null ? childArgs() : List.of());
        return new TrainingRun(cfg, dir, resume, !noReport, quiet, source, common.device).run(group);
    }

    /** --nproc starts its ranks itself: a launcher's RANK / WORLD_SIZE beside it would start them twice. */
    static void checkLauncherVariables(Integer nproc, java.util.Map<String, String> env) {
        if (nproc == null) return;
        for (String name : List.of("RANK", "WORLD_SIZE")) {
            if (env.get(name) != null) {
                throw new IllegalArgumentException(name + "=" + env.get(name) + " is set (a launcher's rank variable) "
                        + "and --nproc " + nproc + " starts its own ranks: both would start ranks; unset RANK and "
                        + "WORLD_SIZE to use --nproc, or leave out --nproc to join the launcher's group");
            }
        }
    }

    /**
     * --resume continues the run at the batch it trained at: the learning rate, the epoch boundaries and the data
     * order were set for it, so a --batch that changes it is refused rather than rewritten into config.yaml.
     */
    private void checkResumeBatch(Path dir) {
        if (!resume || batch == null || !Files.exists(dir.resolve("config.yaml"))) return;
        Integer trained = RunConfig.read(dir.resolve("config.yaml")).train().batch();
        if (trained != null && !trained.equals(batch)) {
            throw new IllegalArgumentException("--batch " + batch + ": the run " + dir + " trained at batch " + trained
                    + "; resume without --batch, or start a new run with --batch " + batch + " and another --out");
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
}
