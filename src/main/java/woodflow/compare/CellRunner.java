package woodflow.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.NumericalException;
import woodflow.core.Tensors;
import woodflow.data.DataSets;
import woodflow.data.Splits;
import woodflow.io.AtomicFiles;
import woodflow.model.MultiScaleFlow;
import woodflow.report.RunReport;
import woodflow.picture.ImageGrid;
import woodflow.sample.Sampler;
import woodflow.train.Checkpoint;
import woodflow.train.CheckpointStore;
import woodflow.train.RunConfig;
import woodflow.train.SummaryStatus;
import woodflow.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * One run of a study, in its own JVM so that its peak memory is its own: trains (or resumes) the run folder whose
 * {@code config.yaml} the study wrote, until the budget is used, then measures sampling and writes
 * {@code cell.json} beside {@code summary.json}:
 * <pre>
 *   iterations, train_seconds   where the run stands (the budget is met when cell.json exists and says so)
 *   images_per_s                iterations x batch / train_seconds (training steps only)
 *   sample_seconds_64           time to draw 64 samples at T = 0.7 from the best checkpoint (after one warm-up draw)
 *   samples_finite              whether those samples were finite (an early model's inverse can overflow)
 *   peak_rss_mb                 the process's peak resident memory when training ended ({@link ProcessMemory})
 *   rss_growth_mb               that peak minus the resident memory before the model was built (data loaded)
 * </pre>
 * Both memory figures are the largest over the run's sessions (a resumed run keeps its earlier ones). Usage (by
 * {@link ChildJvm}): {@code CellRunner RUN_DIR BUDGET} with BUDGET the {@link Budget} as JSON.
 * Exits when its parent does, so an interrupted study leaves no training process behind.
 */
public final class CellRunner {
    static final String CELL = "cell.json";
    static final double TEMPERATURE = 0.7;
    private static final ObjectMapper JSON = woodflow.io.Json.MAPPER;

    private CellRunner() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: CellRunner RUN_DIR BUDGET_JSON ({\"iterations\": N} or {\"minutes\": M})");
            System.exit(2);
        }
        ProcessHandle.current().parent().ifPresent(p -> p.onExit().thenRun(() -> Runtime.getRuntime().halt(3)));
        try {
            run(Path.of(args[0]), Budget.decode(args[1]));
        } catch (Exception | Error e) {
            System.err.println("error: " + e.getMessage());
            if (Boolean.getBoolean("woodflow.debug")) e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static void run(Path dir, Budget budget) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Tensors.load();
        long t0 = System.nanoTime();
        RunConfig cfg = RunConfig.read(dir.resolve("config.yaml")).validate();
        double[] memory = {Double.NaN, Double.NaN};
        try (Splits data = DataSets.open(cfg.data(), cfg.model().channels(), cfg.model().height())) {
            if (!trainingDone(dir, cfg, budget)) {
                double before = woodflow.core.ProcessMemory.residentMib();
                Trainer trainer = new Trainer(cfg, dir, data.train(), data.test(), System.out, false)
                        .holdout(data.holdout());
                if (budget.timed()) trainer.stopAfterSeconds(budget.seconds());
                Trainer.Result r = trainer.run(true);
                trainer.finish();
                double peak = woodflow.core.ProcessMemory.peakMib();
                memory = new double[] {peak, peak - before};
                try {
                    RunReport.write(dir, trainer.model(), cfg, data.train(), data.test(), r,
                            (System.nanoTime() - t0) / 1e9);
                } catch (NumericalException e) {
                    // a model whose samples overflow at some temperature is a result, not a failed run
                    System.out.println("warning: no report.html for this run: " + e.getMessage());
                }
            } else {
                markFinished(dir);
            }
        }
        writeCell(dir, cfg, memory);
    }

    /**
     * Whether the run's training already used the budget: its newest intact checkpoint says so (a process stopped
     * after the last checkpoint but before cell.json only needs the measurements).
     */
    private static boolean trainingDone(Path dir, RunConfig cfg, Budget budget) throws IOException {
        JsonNode s = readJson(dir.resolve("summary.json"));
        if (s == null || !budget.isMet(s.path("iterations").asLong(), s.path("train_seconds").asDouble())) {
            return false;
        }
        Checkpoint c = new CheckpointStore(dir, cfg.train().keepCheckpoints()).latestValid(m -> {});
        return c != null && budget.isMet(c.state().iteration(), c.state().trainSeconds());
    }

    private static void markFinished(Path dir) throws IOException {
        ObjectNode s = (ObjectNode) readJson(dir.resolve("summary.json"));
        s.put("status", SummaryStatus.FINISHED.label());
        AtomicFiles.writeString(dir.resolve("summary.json"), s.toPrettyString() + "\n");
    }

    static JsonNode readJson(Path file) throws IOException {
        return Files.exists(file) ? JSON.readTree(file.toFile()) : null;
    }

    /** Writes cell.json; {@code memory} is this session's {peak, growth} in MB (NaN when it did not train). */
    private static void writeCell(Path dir, RunConfig cfg, double[] memory) throws IOException {
        JsonNode s = readJson(dir.resolve("summary.json"));
        long iterations = s.path("iterations").asLong();
        double seconds = s.path("train_seconds").asDouble();
        MultiScaleFlow model = Checkpoint.loadModel(dir.resolve("checkpoints").resolve("best.safetensors"));
        double sampleSeconds;
        boolean finite = true;
        Path grid = dir.resolve("samples").resolve(gridName());
        try (PointerScope scope = new PointerScope()) {
            long seed = cfg.train().seed() + 101;
            Tensor x = null;
            try {
                Sampler.sample(model, 64, TEMPERATURE, cfg.data().nBits(), seed);
            } catch (NumericalException e) {
                // timed again below, where it is reported
            }
            long t = System.nanoTime();
            try {
                x = Sampler.sample(model, 64, TEMPERATURE, cfg.data().nBits(), seed);
            } catch (NumericalException e) {
                finite = false;
                System.out.println("warning: " + e.getMessage());
            }
            sampleSeconds = (System.nanoTime() - t) / 1e9;
            if (x != null) {
                ImageGrid.write(x, 8, grid);
            } else {
                Files.deleteIfExists(grid);
            }
        }
        JsonNode old = readJson(dir.resolve(CELL));
        double peak = larger(memory[0], old == null ? Double.NaN : old.path("peak_rss_mb").asDouble());
        double growth = larger(memory[1], old == null ? Double.NaN : old.path("rss_growth_mb").asDouble());
        ObjectNode c = JSON.createObjectNode();
        c.put("iterations", iterations).put("train_seconds", seconds)
                .put("best_test_bpd", s.path("best_test_bpd").asDouble())
                .put("parameters", s.path("parameters").asLong())
                .put("images_per_s", seconds > 0 ? iterations * (double) cfg.train().batch() / seconds : Double.NaN)
                .put("sample_seconds_64", sampleSeconds).put("samples_finite", finite).put("peak_rss_mb", peak)
                .put("rss_growth_mb", growth)
                .put("threads", org.bytedeco.pytorch.global.torch.get_num_threads());
        AtomicFiles.writeString(dir.resolve(CELL), c.toPrettyString() + "\n");
    }

    /** The larger of two values, ignoring NaN (a session that did not train has no memory figure). */
    private static double larger(double a, double b) {
        return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
    }

    static String gridName() {
        return String.format(Locale.ROOT, "compare-t%.1f.png", TEMPERATURE);
    }
}
