package woodflow.run;

import woodflow.core.Figures;
import woodflow.data.Splits;
import woodflow.distributed.DistConfig;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.distributed.LocalLauncher;
import woodflow.report.RunReport;
import woodflow.train.RunConfig;
import woodflow.train.RunFolder;
import woodflow.train.Trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A training run as {@code woodflow train} and {@code woodflow demo} start it: the run's data opened at the model's
 * shape, the {@link Trainer} run alone, as one rank of a data-parallel group, or as a group of ranks started on this
 * machine ({@link LocalLauncher}); then the report ({@link RunReport}) and the summary lines:
 * <pre>
 *   done: N iterations, test bpd B, best B', I images/s, S skipped steps
 *   report: RUN/report.html
 *   recognisable: samples ...        (the labelled embedded shapes only)
 *   run folder: RUN
 * </pre>
 * In a group only rank 0 writes the run folder and the report; every rank prints its share of the all-reduce wait.
 */
public final class TrainingRun {
    /**
     * How a run takes part in a data-parallel group: {@code nproc} ranks started on this machine (each a child JVM
     * of {@code mainClass} with {@code rankArgs} and its share of {@code threads}), else the group that
     * {@code rank}, {@code worldSize}, {@code masterAddr} and {@code masterPort} (null: the environment's) name, or
     * none. {@code overlap}: whether the gradient all-reduces start during the backward.
     */
    public record Group(Integer nproc, Integer rank, Integer worldSize, String masterAddr, Integer masterPort,
                        boolean overlap, int threads, String mainClass, List<String> rankArgs) {}

    private final RunConfig config;
    private final Path dir;
    private final boolean resume;
    private final boolean report;
    private final boolean quiet;
    private final String configSource;
    private final String device;

    /**
     * @param configSource where the config came from as the user gave it ({@code --preset demo}): named when a
     *                     checkpoint to resume does not fit it
     * @param report       whether to write report.html and the final sample grids
     */
    public TrainingRun(RunConfig config, Path dir, boolean resume, boolean report, boolean quiet, String configSource,
                       String device) {
        this.config = config;
        this.dir = dir;
        this.resume = resume;
        this.report = report;
        this.quiet = quiet;
        this.configSource = configSource;
        this.device = device;
    }

    /** Runs in the group {@code group} describes (see {@link Group}); returns the exit code. */
    public int run(Group group) throws Exception {
        if (group.nproc() != null) {
            LocalLauncher.checkGroup(group.nproc(), config.train().batch());
            RunFolder.claim(dir); // before the ranks' logs: the ranks then find a run folder
            return new LocalLauncher(group.nproc(), group.threads(), dir, System.err).run(group.mainClass(),
                    group.rankArgs());
        }
        DistConfig g = DistConfig.resolve(System.getenv(), group.rank(), group.worldSize(), group.masterAddr(),
                group.masterPort());
        if (g == null) return train(null, true);
        try (DistContext ctx = DistContext.join(g, device)) {
            return train(ctx, group.overlap());
        }
    }

    /** Runs in this process alone, whatever the environment says of a group. */
    public int alone() throws Exception {
        return train(null, true);
    }

    /** The warning a run with more than 1% of its steps skipped ends with, or null. */
    public static String skippedWarning(long skipped, long iterations, Path config) {
        if (iterations <= 0 || skipped <= 0.01 * iterations) return null;
        return String.format(Locale.ROOT, "warning: %d of %d steps (%.1f%%) were skipped as non-finite. Likely causes: "
                + "a learning rate too high for this model (lower train.lr, add train.warmup or train.clip), bad "
                + "values in the data, or a fast path computing wrong numbers on this CPU (run `woodflow doctor "
                + "--config %s`)", skipped, iterations, 100.0 * skipped / iterations, config);
    }

    /**
     * Trains on the device, writes the report and prints the summary; as one rank of {@code group} when it is not
     * null: only rank 0 writes the run folder and report, and with {@code overlap} the gradient all-reduces start
     * during the backward.
     */
    private int train(DistContext group, boolean overlap) throws Exception {
        long t0 = System.nanoTime();
        try (Splits data = config.openData()) {
            boolean root = group == null || group.rank() == 0;
            String dataAtStart = data.train().describe();
            Trainer trainer = new Trainer(config, dir, data.train(), data.test(), System.out, quiet)
                    .holdout(data.holdout()).configSource(configSource).device(device);
            if (group != null) {
                trainer.distributed(group).overlap(overlap);
                System.out.printf(Locale.ROOT, "data-parallel: rank %d of %d (master %s:%d), this rank's batch %d "
                                + "of %d%n", group.rank(), group.worldSize(), group.config().masterAddr(),
                        group.config().masterPort(), config.train().batch() / group.worldSize(), config.train().batch());
            }
            Trainer.Result r = trainer.run(resume);
            trainer.finish();
            if (group != null) {
                printAllreduceWait(group, trainer.reducerStats(), r, overlap);
                if (!root) {
                    System.out.printf(Locale.ROOT, "rank %d: done: %d iterations, test bpd %s%n", group.rank(),
                            r.iterations(), Figures.bpd(r.testBpd()));
                    return 0;
                }
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            System.out.println(r.line());
            String skippedWarning = skippedWarning(r.skippedSteps(), r.iterations(), dir.resolve("config.yaml"));
            if (skippedWarning != null) System.err.println(skippedWarning);
            // images that failed to decode during training (data.on_bad_image: skip) show in the description
            if (!data.train().describe().equals(dataAtStart)) System.out.println("data: " + data.train().describe());
            if (report) {
                RunReport.Written written = RunReport.write(dir, trainer.evaluationModel(), trainer.config(),
                        data.train(), data.test(), r,
                        wall);
                System.out.println("report: " + written.report());
                if (written.recognisable() != null) System.out.println(written.recognisable().line());
                if (written.byClass() != null) System.out.println(written.byClass().line());
            }
            System.out.println("run folder: " + dir);
        }
        return 0;
    }

    private static void printAllreduceWait(DistContext group, GradientReducer.Stats rs, Trainer.Result r,
                                           boolean overlap) {
        System.out.printf(Locale.ROOT, "data-parallel: %.1f s of %.1f s training waiting for gradient all-reduces "
                + "(%s)%n", group.allreduceSeconds(), r.trainSeconds(), rs == null
                ? (overlap ? "after each backward: the gradient fits one bucket, nothing to overlap"
                        : "after each backward, --no-overlap")
                : String.format(Locale.ROOT, "%d bucket%s, %.0f%% started from the backward's gradient hooks, on "
                        + "average %.1f ms before the step waited for it", rs.buckets(), rs.buckets() == 1 ? "" : "s",
                        100 * rs.overlappedShare(), 1e3 * rs.meanHeadStartSeconds()));
    }
}
