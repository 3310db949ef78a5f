package woodflow.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.core.NumericalException;
import woodflow.core.Precision;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.ImageGrid;
import woodflow.sample.Sampler;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Trains a multi-scale flow on a data set and keeps a run folder:
 * <pre>
 *   RUN/config.yaml           the full run config
 *   RUN/metrics.jsonl         one JSON object per log interval and per evaluation
 *   RUN/summary.json          iterations, test_bpd, best_test_bpd, images_per_s, ... (rewritten at each evaluation)
 *   RUN/checkpoints/          ckpt-ITERATION.safetensors (the newest N) and best.safetensors
 *   RUN/samples/              sample grids written at evaluations
 * </pre>
 * Each iteration: a batch in the seeded order of {@link BatchOrder}, fresh uniform dequantisation from a generator
 * seeded with (seed, iteration), mean bits per dimension as the loss, backward, optional clipping, Adam. A step whose
 * loss or gradient is not finite is skipped and counted; after {@code max_bad_steps} in a row the last good checkpoint
 * is restored and the learning rate halved. ActNorm is initialised from the first training batch.
 */
public final class Trainer {
    /** What a finished (or stopped) run reports. */
    public record Result(long iterations, double testBpd, double bestTestBpd, double imagesPerSecond,
                         long skippedSteps, double trainSeconds, Path runDir) {}

    private final RunConfig config;
    private final Path runDir;
    private final ImageSource train;
    private final ImageSource test;
    private final PrintStream out;
    private final boolean quiet;
    private MultiScaleFlow model;
    private Adam adam;
    private CheckpointStore store;
    private MetricsLog metrics;
    private double lr;
    private long skipped;
    private int badInARow;
    private double best = Double.NaN;
    private double lastTest = Double.NaN;
    private double lastImagesPerSecond = Double.NaN;
    private double trainSeconds;
    private long iteration;
    private double timeLimitSeconds = Double.POSITIVE_INFINITY;

    public Trainer(RunConfig config, Path runDir, ImageSource train, ImageSource test, PrintStream out, boolean quiet) {
        this.config = config.validate();
        this.runDir = runDir;
        this.train = train;
        this.test = test;
        this.out = out;
        this.quiet = quiet;
        checkShape(train, "training");
        checkShape(test, "test");
    }

    private void checkShape(ImageSource s, String what) {
        var m = config.model();
        if (s.size() == 0) throw new IllegalArgumentException("the " + what + " set is empty: " + s.describe());
        if (s.channels() != m.channels() || s.height() != m.height() || s.width() != m.width()) {
            throw new IllegalArgumentException("the " + what + " images are " + s.channels() + "x" + s.height() + "x"
                    + s.width() + " but the model takes " + m.channels() + "x" + m.height() + "x" + m.width());
        }
    }

    public MultiScaleFlow model() {
        return model;
    }

    /**
     * Also stops once the training steps have used {@code seconds} in total over all sessions (the time budget of a
     * fair-time comparison): the run then evaluates and checkpoints at that iteration, as at its last iteration.
     */
    public Trainer stopAfterSeconds(double seconds) {
        if (!(seconds > 0)) throw new IllegalArgumentException("a time budget must be positive, got " + seconds + " s");
        timeLimitSeconds = seconds;
        return this;
    }

    private int nBits() {
        return config.data().nBits();
    }

    /** Starts a new run in an empty (or new) folder, or resumes the latest intact checkpoint of the folder. */
    public Result run(boolean resume) throws IOException {
        try (RunLock lock = RunLock.acquire(runDir)) {
            return runLocked(resume);
        }
    }

    private Result runLocked(boolean resume) throws IOException {
        TrainConfig tc = config.train();
        Precision.set(Precision.Mode.parse(tc.precision()));
        store = new CheckpointStore(runDir, tc.keepCheckpoints());
        torch.manual_seed(tc.seed());
        model = new MultiScaleFlow(config.model(), Init.float32());
        adam = new Adam(model.namedParameters(), tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
        lr = tc.lr();
        Checkpoint ckpt = resume ? store.latestValid(msg -> say("warning: " + msg)) : null;
        if (resume && ckpt == null) {
            say("no checkpoint in " + runDir + ": starting a new run");
        }
        if (ckpt != null) {
            restore(ckpt);
            metrics = MetricsLog.openForResume(runDir.resolve("metrics.jsonl"), iteration);
            say(String.format(Locale.ROOT, "resumed from %s at iteration %d (best test bpd %.4f)",
                    runDir.relativize(ckpt.file()), iteration, best));
        } else {
            if (!resume && store.list().size() > 0) {
                throw new IllegalStateException("run folder " + runDir + " already holds checkpoints: pass --resume to "
                        + "continue it, or choose another --out");
            }
            metrics = MetricsLog.create(runDir.resolve("metrics.jsonl"));
            iteration = 0;
        }
        woodflow.io.AtomicFiles.writeString(runDir.resolve("config.yaml"), config.toYaml());
        say(String.format(Locale.ROOT, "model: %s, %d levels x %d steps, %s coupling, %,d parameters; data: %s",
                config.model().permutation(), config.model().levels(), config.model().steps(),
                config.model().coupling(), model.parameterCount(), train.describe()));
        return loop();
    }

    private void say(String line) {
        if (!quiet && out != null) out.println(line);
    }

    private void restore(Checkpoint ckpt) {
        model.loadStateDict(ckpt.modelState());
        adam.load(ckpt.tensors(), ckpt.state().adamStep());
        iteration = ckpt.state().iteration();
        best = ckpt.state().bestTestBpd();
        lr = ckpt.state().lr();
        skipped = ckpt.state().skippedSteps();
        trainSeconds = ckpt.state().trainSeconds();
    }

    private Tensor batchTensor(List<byte[]> images) {
        return Quantization.stack(images, train.channels(), train.height(), train.width());
    }

    private List<byte[]> fetch(BatchOrder order, long it) {
        List<byte[]> imgs = new ArrayList<>();
        for (int i : order.indices(it)) imgs.add(train.image(i));
        return imgs;
    }

    private Result loop() throws IOException {
        TrainConfig tc = config.train();
        int bins = Quantization.bins(nBits());
        long total = tc.iterations();
        BatchOrder order = new BatchOrder(train.size(), tc.batch(), tc.seed());
        ExecutorService prefetch = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "woodflow-prefetch");
            t.setDaemon(true);
            return t;
        });
        try (Progress progress = Progress.create(iteration, total, out, quiet)) {
            if (iteration == 0) initialise(order, bins);
            CompletableFuture<List<byte[]>> next = submit(prefetch, order, iteration);
            long windowStart = System.nanoTime();
            long windowImages = 0;
            double windowLoss = 0;
            int windowSteps = 0;
            while (iteration < total && trainSeconds < timeLimitSeconds) {
                List<byte[]> imgs = next.join();
                long it = iteration;
                if (it + 1 < total) next = submit(prefetch, order, it + 1);
                long t0 = System.nanoTime();
                double loss = step(imgs, it, bins);
                trainSeconds += (System.nanoTime() - t0) / 1e9;
                iteration = it + 1;
                if (Double.isFinite(loss)) {
                    windowLoss += loss;
                    windowSteps++;
                }
                windowImages += tc.batch();
                if (badInARow >= tc.maxBadSteps()) recover(progress);
                boolean last = iteration == total || trainSeconds >= timeLimitSeconds;
                boolean evalNow = iteration % tc.evalEvery() == 0 || last;
                if (iteration % tc.logEvery() == 0 || evalNow) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    lastImagesPerSecond = windowImages / secs;
                    double trainBpd = windowSteps > 0 ? windowLoss / windowSteps : Double.NaN;
                    ObjectNode r = metrics.newRecord();
                    r.put("iteration", iteration).put("train_bpd", trainBpd).put("images_per_s", lastImagesPerSecond)
                            .put("lr", currentLr(iteration)).put("skipped_steps", skipped)
                            .put("train_seconds", trainSeconds);
                    metrics.append(r);
                    progress.update(iteration, trainBpd, lastImagesPerSecond, lastTest);
                    windowStart = System.nanoTime();
                    windowImages = 0;
                    windowLoss = 0;
                    windowSteps = 0;
                }
                if (evalNow) {
                    evaluate(progress);
                    windowStart = System.nanoTime();
                }
                if (iteration % tc.checkpointEvery() == 0 || last) checkpoint();
            }
        } finally {
            prefetch.shutdownNow();
        }
        return new Result(iteration, lastTest, best, lastImagesPerSecond, skipped, trainSeconds, runDir);
    }

    private CompletableFuture<List<byte[]>> submit(ExecutorService ex, BatchOrder order, long it) {
        return CompletableFuture.supplyAsync(() -> fetch(order, it), ex);
    }

    /** ActNorm's data-dependent initialisation on the first training batch, then the test bpd at iteration 0. */
    private void initialise(BatchOrder order, int bins) throws IOException {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(config.train().seed() * 1_000_003L);
            Tensor x = Quantization.dequantize(batchTensor(fetch(order, 0)), nBits());
            model.bitsPerDim(x, bins);
        }
        double bpd = Evaluator.meanBitsPerDim(model, test, test.size(), nBits(), config.train().evalBatch(),
                config.train().evalSeed());
        ObjectNode r = metrics.newRecord();
        r.put("iteration", 0).put("test_bpd", bpd);
        metrics.append(r);
        lastTest = bpd;
    }

    private double currentLr(long it) {
        int warm = config.train().warmup();
        return warm > 0 ? lr * Math.min(1.0, (it + 1) / (double) warm) : lr;
    }

    /** One training iteration; returns the batch's mean bpd, or NaN when the step was skipped. */
    private double step(List<byte[]> imgs, long it, int bins) {
        TrainConfig tc = config.train();
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(tc.seed() * 1_000_003L + it + 1);
            Tensor x = Quantization.dequantize(batchTensor(imgs), nBits());
            adam.zeroGrad();
            double loss;
            try {
                Tensor l = model.bitsPerDim(x, bins).mean();
                loss = l.item_double();
                if (!Double.isFinite(loss)) return skip();
                l.backward();
            } catch (NumericalException e) {
                return skip();
            }
            double norm = adam.gradNorm();
            if (!Double.isFinite(norm)) return skip();
            if (tc.clip() > 0 && norm > tc.clip()) adam.scaleGrads(tc.clip() / norm);
            adam.update(currentLr(it));
            badInARow = 0;
            return loss;
        }
    }

    private double skip() {
        skipped++;
        badInARow++;
        adam.zeroGrad();
        return Double.NaN;
    }

    /** After too many bad steps in a row: back to the last good checkpoint with half the learning rate. */
    private void recover(Progress progress) throws IOException {
        Checkpoint c = store.latestValid(msg -> progress.message("warning: " + msg));
        if (c == null) {
            throw new NumericalException(badInARow + " training steps in a row had a non-finite loss or gradient "
                    + "before the first checkpoint; lower the learning rate (train.lr) or enable clipping (train.clip)");
        }
        long skippedSoFar = skipped;
        restore(c);
        skipped = skippedSoFar;
        lr = lr / 2;
        badInARow = 0;
        progress.message(String.format(Locale.ROOT, "%d non-finite steps in a row: restored %s and lowered the "
                + "learning rate to %.3g", config.train().maxBadSteps(), c.file().getFileName(), lr));
    }

    private void evaluate(Progress progress) throws IOException {
        TrainConfig tc = config.train();
        double bpd = Evaluator.meanBitsPerDim(model, test, test.size(), nBits(), tc.evalBatch(), tc.evalSeed());
        lastTest = bpd;
        boolean improved = Double.isFinite(bpd) && !(bpd >= best);
        if (improved) best = bpd;
        ObjectNode r = metrics.newRecord();
        r.put("iteration", iteration).put("test_bpd", bpd).put("best_test_bpd", best);
        metrics.append(r);
        writeSummary("running");
        if (improved) {
            Checkpoint.save(store.best(), config, model, adam, state());
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor s = Sampler.sample(model, 16, 0.7, nBits(), tc.seed() + 17);
            ImageGrid.write(s, 8, runDir.resolve("samples").resolve(String.format("iter-%08d-t0.7.png", iteration)));
        } catch (NumericalException e) {
            progress.message("warning: " + e.getMessage());
        }
        progress.message(String.format(Locale.ROOT, "iteration %d: test bpd %.4f (best %.4f)", iteration, bpd, best));
    }

    private Checkpoint.TrainState state() {
        return new Checkpoint.TrainState(iteration, adam.step(), best, lr, skipped, trainSeconds);
    }

    private void checkpoint() throws IOException {
        Checkpoint.save(store.pathFor(iteration), config, model, adam, state());
        store.prune();
    }

    /** Writes {@code summary.json} atomically. */
    public void writeSummary(String status) throws IOException {
        ObjectNode s = metrics.newRecord();
        s.put("status", status).put("iterations", iteration).put("test_bpd", lastTest).put("best_test_bpd", best)
                .put("images_per_s", lastImagesPerSecond).put("skipped_steps", skipped)
                .put("train_seconds", trainSeconds).put("parameters", model.parameterCount())
                .put("precision", config.train().precision()).put("description", config.description());
        woodflow.io.AtomicFiles.writeString(runDir.resolve("summary.json"), s.toPrettyString() + "\n");
    }

    /** Marks the run finished in {@code summary.json}. */
    public void finish() throws IOException {
        writeSummary("finished");
    }

}
