package woodflow.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.core.NumericalException;
import woodflow.data.BatchStream;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.io.AtomicFiles;
import woodflow.model.MultiScaleFlow;
import woodflow.nn.FastPathCheck;
import woodflow.picture.ImageGrid;
import woodflow.sample.Sampler;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongPredicate;

/**
 * Trains a multi-scale flow on a data set and keeps a run folder:
 * <pre>
 *   RUN/config.yaml           the full run config
 *   RUN/metrics.jsonl         one JSON object per log interval and per evaluation
 *   RUN/summary.json          iterations, test_bpd, best_test_bpd, images_per_s, ... (rewritten at each evaluation)
 *   RUN/checkpoints/          ckpt-ITERATION.safetensors (the newest N) and best.safetensors
 *   RUN/samples/              sample grids written at evaluations
 * </pre>
 * Each iteration: a batch in the seeded order of {@link BatchStream} (decoded ahead on background threads), fresh uniform dequantisation from a generator
 * seeded with (seed, iteration), mean bits per dimension as the loss, backward, optional clipping, Adam. A step whose
 * loss or gradient is not finite is skipped and counted; after {@code max_bad_steps} in a row the last good checkpoint
 * is restored and the learning rate halved (at most {@link #MAX_RECOVERIES} times from one checkpoint, then the run
 * stops with the reason). ActNorm is initialised from the first training batch.
 *
 * <p>Crash safety: every file is written atomically or appended line by line (see {@link MetricsLog}), so a run
 * killed at any moment resumes from its newest intact checkpoint; a checkpoint holds the complete state (parameters,
 * Adam's moments and step, counters, the part of the current log interval), so a resumed run continues bit for bit
 * as the uninterrupted one would. Temporary files of killed writers are removed when a run starts.
 */
public final class Trainer {
    /** What a finished (or stopped) run reports. */
    public record Result(long iterations, double testBpd, double bestTestBpd, double imagesPerSecond,
                         long skippedSteps, double trainSeconds, Path runDir) {}

    /** Restores from one checkpoint (each halving the learning rate) before the run gives up. */
    static final int MAX_RECOVERIES = 3;

    private final RunConfig config;
    private final Path runDir;
    private final ImageSource train;
    private final ImageSource test;
    private final PrintStream out;
    private final boolean quiet;
    private MultiScaleFlow model;
    private Adam adam;
    /** The moving average of the weights ({@code train.ema}), or null. */
    private WeightAverage average;
    private TrainStep stepper;
    private CheckpointStore store;
    private MetricsLog metrics;
    private double lr;
    private long skipped;
    private int badInARow;
    private int recoveries;
    private double logLossSum;
    private int logSteps;
    private LongPredicate nanInput = it -> false;
    private LongPredicate nanGradient = it -> false;
    private double best = Double.NaN;
    private double lastTest = Double.NaN;
    private long lastTestIteration;
    private Progress progress;
    private double lastImagesPerSecond = Double.NaN;
    private double trainSeconds;
    private long iteration;
    private double timeLimitSeconds = Double.POSITIVE_INFINITY;
    private List<String> holdout = List.of();
    private String configSource = "the given config";
    private String device = "cpu";
    private DistContext dist;
    private boolean overlap = true;
    private GradientReducer reducer;
    private GradientReducer.Stats reducerStats;
    private long firstBucketBytes = GradientReducer.FIRST_BUCKET_BYTES;
    private long bucketBytes = GradientReducer.BUCKET_BYTES;

    public Trainer(RunConfig config, Path runDir, ImageSource train, ImageSource test, PrintStream out, boolean quiet) {
        this.config = withClassesOf(config, train, test).validate();
        this.runDir = runDir;
        this.train = train;
        this.test = test;
        this.out = out;
        this.quiet = quiet;
        checkShape(train, "training");
        checkShape(test, "test");
    }

    /**
     * A class-conditional run's config with {@code model.classes} filled in from the training images' labels (so the
     * class names travel with the run's config and checkpoints); a config that names classes must name the data's.
     * Any other config is returned as it is. The test images must have the same classes.
     */
    static RunConfig withClassesOf(RunConfig config, ImageSource train, ImageSource test) {
        var m = config.model();
        if (!m.classConditional()) return config;
        woodflow.data.ClassLabels labels = train.labels().orElseThrow(() -> new IllegalArgumentException(
                "model.conditional: class needs the images' classes, but the training data has no labels ("
                        + train.describe() + "); labels come from CIFAR-10's label byte, IDX label files beside the "
                        + "images (train-labels-idx1-ubyte), class sub-folders of an image folder, LSUN categories "
                        + "and the embedded shapes (data.style: shapes)"));
        List<String> names = labels.names();
        if (m.classes() != null && !m.classes().equals(names)) {
            throw new IllegalArgumentException("model.classes (" + String.join(", ", m.classes()) + ") are not the "
                    + "classes of the training data (" + String.join(", ", names) + "); remove model.classes to take "
                    + "the data's");
        }
        woodflow.data.ClassLabels.require(test, names);
        return config.withModel(m.withClasses(m.conditional(), names, m.classLossWeight()));
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

    /** The run's config as trained: a class-conditional model's classes filled in from the data. */
    public RunConfig config() {
        return config;
    }

    /**
     * The model that evaluation, sampling and the report use: the averaged weights when {@code train.ema} is on
     * ({@link WeightAverage}), else the trained model itself.
     */
    public MultiScaleFlow evaluationModel() {
        return average != null ? average.model() : model;
    }

    /**
     * Also stops once the training steps have used {@code seconds} in total over all sessions (the time budget of a
     * fair-time comparison): the run then evaluates and checkpoints at that iteration, as at its last iteration.
     */
    public Trainer stopAfterSeconds(double seconds) {
        if (!(seconds > 0)) throw new IllegalArgumentException("a time budget must be positive, got " + seconds + " s");
        if (dist != null) throw new IllegalArgumentException("a time budget is not supported in data-parallel training");
        timeLimitSeconds = seconds;
        return this;
    }

    /**
     * The names of the held-out test images (a seeded hold-out, see {@code HoldoutSplit}), written to
     * {@code holdout.txt} once the run folder exists and is locked; empty for data sets with their own test split.
     */
    public Trainer holdout(List<String> names) {
        holdout = List.copyOf(names);
        return this;
    }

    /**
     * Where the config came from, as the user gave it ({@code --preset demo}, {@code --config my.yaml}): named when
     * a checkpoint to resume does not fit it.
     */
    /** The device the model is built on ("cpu" unless said; each rank of a group may have its own). */
    public Trainer device(String name) {
        device = name;
        return this;
    }

    public Trainer configSource(String source) {
        configSource = source;
        return this;
    }

    /**
     * Trains as one rank of a data-parallel group: this rank takes its rows of every global batch, the gradients are
     * averaged over the group in buckets whose all-reduces start during the backward (see {@link GradientReducer}), evaluation is sharded
     * and summed, and only rank 0 writes the run folder. With the same seed and global batch the run computes the
     * steps a one-process run computes, to float32 rounding.
     */
    public Trainer distributed(DistContext group) {
        int n = group.worldSize();
        if (config.train().batch() % n != 0) {
            throw new IllegalArgumentException("the global batch " + config.train().batch() + " is not divisible by the "
                    + "world size " + n + ": choose a batch that is a multiple of " + n + " (--batch)");
        }
        if (timeLimitSeconds != Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("a time budget is not supported in data-parallel training");
        }
        dist = group;
        return this;
    }

    /** Whether this process writes the run folder: a one-process run, or rank 0 of a group. */
    private boolean writer() {
        return dist == null || dist.rank() == 0;
    }

    private int nBits() {
        return config.data().nBits();
    }

    /**
     * Test hook: the iterations whose input batch ({@code input}) or whose gradient ({@code gradient}) is replaced by
     * NaN, to exercise skipping and recovery. The predicates are asked once per executed step.
     */
    void injectFaults(LongPredicate input, LongPredicate gradient) {
        nanInput = input;
        nanGradient = gradient;
        if (stepper != null) stepper.injectFaults(input, gradient);
    }

    /** Starts a new run in an empty (or new) folder, or resumes the latest intact checkpoint of the folder. */
    public Result run(boolean resume) throws IOException {
        if (!writer()) return runLocked(resume); // rank 0 holds the lock for the group
        try (RunLock lock = RunLock.acquire(runDir)) {
            try {
                return runLocked(resume);
            } catch (RuntimeException | IOException e) {
                markFailed(e);
                throw e;
            }
        }
    }

    /**
     * Writes {@code summary.json} with status "failed" and the reason, so that a dashboard can tell a run that
     * stopped on an error from one that was killed. Best effort: the original error is what the caller sees.
     */
    private void markFailed(Exception e) {
        if (metrics == null || model == null || !writer()) return; // before the run started, or not rank 0
        try {
            ObjectNode s = summary("failed");
            s.put("error", e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
            AtomicFiles.writeString(runDir.resolve("summary.json"), s.toPrettyString() + "\n");
        } catch (IOException | RuntimeException ignored) {
            // e.g. the disk is full: the run folder then shows a stopped run without a summary
        }
    }

    private Result runLocked(boolean resume) throws IOException {
        TrainConfig tc = config.train();
        store = new CheckpointStore(runDir, tc.keepCheckpoints());
        torch.manual_seed(tc.seed());
        model = new MultiScaleFlow(config.model(), Init.float32(device));
        model.precision(tc.precision());
        adam = new Adam(model.namedParameters(), tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
        average = tc.averagesWeights() ? new WeightAverage(model, tc.ema(), device) : null;
        stepper = new TrainStep(model, adam, tc, nBits());
        stepper.injectFaults(nanInput, nanGradient);
        stepper.onFastPathFault(this::warn);
        if (dist != null) {
            dist.agree("config", Integer.toHexString(config.toYaml().hashCode()), "run config (hash of its YAML)");
            stepper.shard(dist.rank(), dist.worldSize()).onGradients(gradientSync());
        }
        lr = tc.lr();
        if (writer()) {
            for (Path d : List.of(runDir, store.dir(), runDir.resolve("samples"))) AtomicFiles.removeStaleTemporaries(d);
        }
        Checkpoint ckpt = resume ? store.forResume(this::warn) : null;
        if (resume && ckpt == null) say("no checkpoint in " + runDir + ": starting a new run");
        if (ckpt != null) {
            restore(ckpt);
            metrics = writer() ? MetricsLog.openForResume(runDir.resolve("metrics.jsonl"), iteration)
                    : MetricsLog.discarding();
            say(String.format(Locale.ROOT, "resumed from %s at iteration %d (best test bpd %.4f)",
                    runDir.relativize(ckpt.file()), iteration, best));
        } else {
            if (!resume && store.list().size() > 0) {
                throw new IllegalStateException("run folder " + runDir + " already holds checkpoints: pass --resume to "
                        + "continue it, or choose another --out");
            }
            metrics = writer() ? MetricsLog.create(runDir.resolve("metrics.jsonl")) : MetricsLog.discarding();
            iteration = 0;
        }
        if (dist != null) dist.agree("start", Long.toString(iteration), "iteration to start from");
        if (writer()) {
            AtomicFiles.writeString(runDir.resolve("config.yaml"), config.toYaml());
            if (!holdout.isEmpty()) {
                AtomicFiles.writeString(runDir.resolve("holdout.txt"), String.join("\n", holdout) + "\n");
            }
        }
        config.model().notes().forEach(n -> say("note: " + n));
        if (ckpt != null && iteration >= tc.iterations()) {
            warn(String.format(Locale.ROOT, "the run is already at iteration %d, at or past its %d iterations: "
                    + "nothing to train (pass a larger --iterations to continue it)", iteration, tc.iterations()));
        }
        say(String.format(Locale.ROOT, "model: %s, %d levels x %d steps, %s coupling, %,d parameters; data: %s",
                config.model().permutation(), config.model().levels(), config.model().steps(),
                config.model().coupling(), model.parameterCount(), train.describe()));
        if (config.model().classConditional()) {
            say("classes: " + String.join(", ", config.model().classes()) + " (the top and split priors are conditioned "
                    + "on the class" + (config.model().classLossWeight() > 0 ? ", which the top latent also predicts, "
                    + "weight " + config.model().classLossWeight() : "") + ")");
        }
        if (tc.schedule().kind() != LrSchedule.Kind.CONSTANT) {
            say(String.format(Locale.ROOT, "learning rate: %s from train.lr %s%s; an epoch is %d iterations",
                    tc.schedule().describe(), tc.lr(), tc.warmup() > 0 ? " after " + tc.warmup() + " iterations of "
                    + "warm-up" : "", stepsPerEpoch()));
        }
        if (average != null) {
            say(String.format(Locale.ROOT, "weights: evaluation, samples and the best checkpoint use the moving "
                    + "average of the weights (train.ema %s); checkpoints hold both sets", tc.ema()));
        }
        if (tc.precision() == woodflow.core.Precision.BF16_MIXED) {
            say("precision: bf16-mixed, bf16 convolutions " + woodflow.nn.Bf16Kernels.current().describe());
        }
        try {
            return loop();
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; " + store.resumeHint(), e); // e.g. a full disk
        } finally {
            if (reducer != null) {
                reducerStats = reducer.stats();
                reducer.close();
                reducer = null;
            }
        }
    }

    /**
     * The group's part in each step: a {@link GradientReducer} whose all-reduces start during the backward, or (with
     * {@link #overlap overlap off}, or a gradient that fits one bucket) one averaging of the gradients after it.
     */
    private TrainStep.GradientSync gradientSync() {
        if (!overlap || !GradientReducer.worthOverlapping(model.parameters(), firstBucketBytes, bucketBytes)) {
            return TrainStep.GradientSync.afterBackward(dist, model.parameters());
        }
        reducer = new GradientReducer(dist, model.parameters(), firstBucketBytes, bucketBytes);
        return TrainStep.GradientSync.overlapping(reducer);
    }

    /**
     * Whether a data-parallel run starts its gradient all-reduces during the backward (the default), or averages the
     * gradients after it: the same numbers either way; off, to measure what the overlap gains.
     */
    public Trainer overlap(boolean on) {
        overlap = on;
        return this;
    }

    /** The gradient buckets' sizes in bytes (the first, then the others); DistributedDataParallel's by default. */
    public Trainer buckets(long firstBytes, long bytes) {
        if (firstBytes < 4 || bytes < 4) throw new IllegalArgumentException("a gradient bucket holds at least 4 bytes");
        firstBucketBytes = firstBytes;
        bucketBytes = bytes;
        return this;
    }

    /** What the overlapping reducer did in the last run, or null (one process, or overlap off). */
    public GradientReducer.Stats reducerStats() {
        return reducerStats;
    }

    private void say(String line) {
        if (!quiet && out != null) out.println(line);
    }

    /** Warnings are printed even in quiet mode; during the loop through the progress, so never over a bar. */
    private void warn(String line) {
        if (progress != null && !quiet) {
            progress.message("warning: " + line);
        } else if (out != null) {
            out.println("warning: " + line);
        }
    }

    private void notice(Progress progress, String line) {
        if (quiet) {
            if (out != null) out.println(line);
        } else {
            progress.message(line);
        }
    }

    private void restore(Checkpoint ckpt) {
        try {
            model.loadStateDict(ckpt.modelState());
        } catch (woodflow.core.StateMismatchException e) {
            throw ckpt.doesNotFit(config.model(), configSource, e);
        }
        adam.load(ckpt.tensors(), ckpt.state().adamStep());
        if (average != null && !average.load(ckpt.tensors())) {
            average.reset();
            say("note: " + runDir.relativize(ckpt.file()) + " holds no averaged weights (train.ema was off): the "
                    + "average starts from this checkpoint's weights");
        }
        Checkpoint.TrainState st = ckpt.state();
        TrainConfig was = ckpt.config().train(), now = config.train();
        if (now.schedule().kind() == LrSchedule.Kind.COSINE && was.iterations().intValue() != now.iterations()
                && recoveries == 0) {
            say(String.format(Locale.ROOT, "note: the cosine schedule now spans %d iterations instead of %d: at "
                    + "iteration %d the learning rate moves from %.3g to %.3g", now.iterations(), was.iterations(),
                    st.iteration(), was.lrAt(st.lr(), st.iteration(), stepsPerEpoch()),
                    now.lrAt(st.lr(), st.iteration(), stepsPerEpoch())));
        }
        iteration = st.iteration();
        best = st.bestTestBpd();
        lr = st.lr();
        skipped = st.skippedSteps();
        trainSeconds = st.trainSeconds();
        logLossSum = st.logLossSum();
        logSteps = st.logSteps();
        badInARow = st.badInARow();
    }

    private Tensor batchTensor(List<byte[]> images) {
        return Quantization.stack(images, train.channels(), train.height(), train.width());
    }

    private Result loop() throws IOException {
        TrainConfig tc = config.train();
        int bins = Quantization.bins(nBits());
        long total = tc.iterations();
        BatchStream stream = openStream();
        try (Progress progress = Progress.create(iteration, total, timeLimitSeconds, out, quiet)) {
            this.progress = progress;
            if (iteration == 0) initialise(stream, bins);
            // identical on every rank already (same init and data, or the same checkpoint); made exact anyway
            if (dist != null) {
                List<Tensor> shared = new ArrayList<>(model.stateDict().values());
                if (average != null) shared.addAll(average.state().values());
                dist.broadcastFromRoot(shared);
            }
            selfCheck(stream);
            long windowStart = System.nanoTime();
            long windowImages = 0;
            while (iteration < total && trainSeconds < timeLimitSeconds) {
                BatchStream.Batch batch = stream.next();
                long it = iteration;
                long t0 = System.nanoTime();
                double loss = step(batch.images(), batch.labels(), it, bins);
                trainSeconds += (System.nanoTime() - t0) / 1e9;
                iteration = it + 1;
                progress.tick(iteration);
                if (Double.isFinite(loss)) {
                    logLossSum += loss;
                    logSteps++;
                }
                windowImages += tc.batch();
                if (badInARow >= tc.maxBadSteps()) {
                    recover(progress);
                    stream.close();
                    stream = openStream(); // the batches restart at the restored iteration
                    windowStart = System.nanoTime();
                    windowImages = 0;
                    continue;
                }
                boolean last = iteration == total || trainSeconds >= timeLimitSeconds;
                boolean evalNow = iteration % tc.evalEvery() == 0 || last;
                if (iteration % tc.logEvery() == 0 || evalNow) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    lastImagesPerSecond = windowImages / secs;
                    double trainBpd = logSteps > 0 ? logLossSum / logSteps : Double.NaN;
                    ObjectNode r = metrics.newRecord();
                    double stepLr = currentLr(iteration - 1); // the rate the last step trained at
                    r.put("iteration", iteration).put("train_bpd", trainBpd).put("images_per_s", lastImagesPerSecond)
                            .put("lr", stepLr).put("skipped_steps", skipped)
                            .put("train_seconds", trainSeconds);
                    metrics.append(r);
                    progress.update(iteration, trainBpd, lastImagesPerSecond, lastTest, lastTestIteration,
                            trainSeconds, skipped, stepLr);
                    windowStart = System.nanoTime();
                    windowImages = 0;
                    logLossSum = 0;
                    logSteps = 0;
                }
                if (evalNow) {
                    evaluate(progress);
                    windowStart = System.nanoTime();
                }
                if (iteration % tc.checkpointEvery() == 0 || last) checkpoint();
            }
        } finally {
            this.progress = null;
            stream.close();
        }
        return new Result(iteration, lastTest, best, lastImagesPerSecond, skipped, trainSeconds, runDir);
    }

    /** The training stream from the current iteration: batch i depends only on (seed, i). */
    private BatchStream openStream() {
        int workers = config.data().workers() != null ? config.data().workers() : 2;
        return BatchStream.shuffled(train, config.train().batch(), config.train().seed(), iteration, workers, 4,
                config.model().classConditional());
    }

    /** ActNorm's data-dependent initialisation on the first training batch, then the test bpd at iteration 0. */
    private void initialise(BatchStream stream, int bins) throws IOException {
        List<byte[]> first = new ArrayList<>();
        int[] at = new int[config.train().batch()];
        for (int p = 0; p < at.length; p++) first.add(train.image(at[p] = stream.indexAt(p)));
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
                var c = model.classConditional() ? model.conditionedOn(labelsOf(at)) : null) {
            model.bitsPerDim(stepper.dequantize(batchTensor(first), -1), bins);
        }
        if (average != null) average.reset(); // the average starts at the initialised weights
        double bpd = testBitsPerDim();
        ObjectNode r = metrics.newRecord();
        r.put("iteration", 0).put("test_bpd", bpd);
        metrics.append(r);
        lastTest = bpd;
        lastTestIteration = 0;
    }

    /**
     * Before the first step (of this session): the fast convolution path checked against the reference path on this
     * machine, shape by shape ({@link FastPathCheck}) and on the whole gradient of the next batch. What disagrees
     * takes the reference path from now on, with one warning line each. The check changes no state of the run.
     */
    private void selfCheck(BatchStream stream) {
        // each run checks afresh: what an earlier run in this process routed (a test, a study's cell) is forgotten
        woodflow.nn.ConvRouting.reset();
        List<byte[]> next = new ArrayList<>();
        long from = iteration * config.train().batch();
        int[] at = new int[config.train().batch()];
        for (int p = 0; p < at.length; p++) next.add(train.image(at[p] = stream.indexAt(from + p)));
        int[] labels = model.classConditional() ? labelsOf(at) : null;
        // a rank checks the shapes it trains on: its rows of the batch (the batch size is part of a shape)
        if (dist != null) {
            next = shardOf(next);
            if (labels != null) labels = shardOf(labels);
        }
        try (PointerScope scope = new PointerScope()) {
            SelfCheck check = SelfCheck.run(stepper, batchTensor(next), labels, iteration,
                    model.parameters().get(0).device().str().getString());
            for (FastPathCheck.Outcome o : check.shapes().failed()) {
                warn("self-check: the fast convolution path (oneDNN) is wrong on this CPU for " + o.shape() + " ("
                        + o.problem() + "): it takes the reference path from now on (slower; `woodflow doctor` "
                        + "lists every check)");
            }
            if (check.routedAll()) {
                warn("self-check: on this CPU the fast convolution path gives a different training gradient than the "
                        + "reference path (" + check.last().problem() + "): every convolution takes the reference "
                        + "path (slower; `woodflow doctor` lists every check)");
            }
            if (check.passed()) {
                say(String.format(Locale.ROOT, "self-check: the fast convolution path agrees with the reference path "
                        + "on this CPU (%d shapes, max rel. error %.1e; training gradient within %.1e) in %.1f s",
                        check.shapes().outcomes().size(), check.shapes().worstError(), check.first().relativeError(),
                        check.seconds()));
            }
        }
    }

    /** The learning rate of iteration {@code it}: the warm-up and {@code train.schedule} applied to the base rate. */
    private double currentLr(long it) {
        return config.train().lrAt(lr, it, stepsPerEpoch());
    }

    /** Iterations per epoch, as the paper's data loader counts them (the last partial batch dropped), at least 1. */
    private long stepsPerEpoch() {
        return Math.max(1, train.size() / config.train().batch());
    }

    /** The training images' class labels at {@code indices} (a class-conditional run). */
    private int[] labelsOf(int[] indices) {
        return train.labels().orElseThrow().labels(indices);
    }

    /**
     * One training iteration on a batch (and its images' classes, or null); returns the batch's mean bpd, or NaN when
     * the step was skipped.
     */
    private double step(List<byte[]> imgs, int[] labels, long it, int bins) {
        double loss;
        if (dist != null) {
            imgs = shardOf(imgs);
            if (labels != null) labels = shardOf(labels);
        }
        try (PointerScope scope = new PointerScope()) {
            loss = stepper.run(batchTensor(imgs), labels, it, currentLr(it));
        }
        if (Double.isNaN(loss)) {
            skipped++;
            badInARow++;
        } else {
            badInARow = 0;
            if (average != null) average.update(adam.step());
        }
        return loss;
    }

    /** This rank's rows of a global batch. */
    private List<byte[]> shardOf(List<byte[]> global) {
        int b = global.size() / dist.worldSize();
        return global.subList(dist.rank() * b, (dist.rank() + 1) * b);
    }

    /** This rank's rows of a global batch's labels. */
    private int[] shardOf(int[] global) {
        int b = global.length / dist.worldSize();
        return java.util.Arrays.copyOfRange(global, dist.rank() * b, (dist.rank() + 1) * b);
    }

    /**
     * After too many bad steps in a row: back to the last good checkpoint with half the learning rate. The metrics
     * past that checkpoint are dropped (the run continues from it) and a "recovered" record is written; the
     * checkpoint is rewritten with the lowered rate, so a run killed now resumes with it. The best test bpd seen so
     * far is kept (best.safetensors still holds that model).
     */
    private void recover(Progress progress) throws IOException {
        int bad = badInARow;
        Checkpoint c = store.latestValid(msg -> warn(msg));
        if (c == null) {
            throw new NumericalException(bad + " training steps in a row had a non-finite loss or gradient before "
                    + "the first checkpoint; lower the learning rate (train.lr) or enable clipping (train.clip)");
        }
        if (recoveries >= MAX_RECOVERIES) {
            throw new NumericalException(String.format(Locale.ROOT, "training still produces non-finite losses or "
                    + "gradients after restoring %s %d times with a halved learning rate each time (now %.3g); check "
                    + "the data for bad values, or enable clipping (train.clip)", c.file().getFileName(),
                    MAX_RECOVERIES, lr));
        }
        long skippedSoFar = skipped;
        double secondsSoFar = trainSeconds;
        double bestSoFar = best;
        restore(c);
        skipped = skippedSoFar;
        trainSeconds = secondsSoFar;
        if (Double.isNaN(best) || bestSoFar < best) best = bestSoFar;
        lr = lr / 2;
        badInARow = 0;
        recoveries++;
        metrics.truncateAfter(iteration);
        ObjectNode r = metrics.newRecord();
        r.put("iteration", iteration).put("event", "recovered").put("restored", c.file().getFileName().toString())
                .put("lr", lr).put("skipped_steps", skipped);
        metrics.append(r);
        if (writer()) Checkpoint.save(c.file(), config, model, adam, state(), extraState());
        notice(progress, String.format(Locale.ROOT, "%d non-finite steps in a row: restored %s and lowered the "
                + "learning rate to %.3g", bad, c.file().getFileName(), lr));
    }

    private void evaluate(Progress progress) throws IOException {
        TrainConfig tc = config.train();
        double bpd = testBitsPerDim();
        lastTest = bpd;
        lastTestIteration = iteration;
        boolean improved = Double.isFinite(bpd) && !(bpd >= best);
        if (improved) best = bpd;
        ObjectNode r = metrics.newRecord();
        r.put("iteration", iteration).put("test_bpd", bpd).put("best_test_bpd", best);
        metrics.append(r);
        writeSummary("running");
        if (improved && writer()) {
            Checkpoint.save(store.best(), config, model, adam, state(), extraState());
        }
        if (writer()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor s = Sampler.sample(evaluationModel(), 16, 0.7, nBits(), tc.seed() + 17);
                var m = config.model();
                // written here rather than by ImageGrid.write, so that a full disk reaches the loop as an IOException
                // and the error says up to which checkpoint the run is kept
                AtomicFiles.write(runDir.resolve("samples").resolve(String.format("iter-%08d-t0.7.png", iteration)),
                        ImageGrid.pngBytes(ImageGrid.renderLabelled(ImageGrid.images(s), m.channels(), m.height(),
                                m.width(), 8, ImageGrid.Labels.numbered("16 samples at T = 0.7, iteration "
                                        + iteration, 16, 8))));
            } catch (NumericalException e) {
                warn(e.getMessage());
            }
        }
        progress.message(String.format(Locale.ROOT, "iteration %d: test bpd %.4f (best %.4f)", iteration, bpd, best));
    }

    /** Mean test bpd; in a group, each rank evaluates its share of the batches and the sums are added up. */
    private double testBitsPerDim() {
        TrainConfig tc = config.train();
        MultiScaleFlow evaluated = evaluationModel();
        if (dist == null) {
            return Evaluator.meanBitsPerDim(evaluated, test, test.size(), nBits(), tc.evalBatch(), tc.evalSeed());
        }
        double[] b = Evaluator.bitsPerDim(evaluated, test, test.size(), nBits(), tc.evalBatch(), tc.evalSeed(),
                dist.rank(), dist.worldSize());
        double sum = 0;
        int count = 0;
        for (int start = 0, k = 0; start < b.length; start += tc.evalBatch(), k++) {
            if (k % dist.worldSize() != dist.rank()) continue;
            for (int i = start; i < Math.min(b.length, start + tc.evalBatch()); i++) {
                sum += b[i];
                count++;
            }
        }
        double[] total = dist.sum(sum, count);
        return total[0] / total[1];
    }

    private Checkpoint.TrainState state() {
        return new Checkpoint.TrainState(iteration, adam.step(), best, lr, skipped, trainSeconds, logLossSum, logSteps,
                badInARow);
    }

    /** What a checkpoint holds beside the model and Adam: the averaged weights, when they are kept. */
    private java.util.Map<String, Tensor> extraState() {
        return average != null ? average.state() : java.util.Map.of();
    }

    private void checkpoint() throws IOException {
        recoveries = 0; // on every rank: they must give up on the same recovery
        if (!writer()) return;
        Checkpoint.save(store.pathFor(iteration), config, model, adam, state(), extraState());
        store.prune();
    }

    /** Writes {@code summary.json} atomically. */
    public void writeSummary(String status) throws IOException {
        if (!writer()) return;
        AtomicFiles.writeString(runDir.resolve("summary.json"), summary(status).toPrettyString() + "\n");
    }

    private ObjectNode summary(String status) {
        ObjectNode s = metrics.newRecord();
        s.put("status", status).put("iterations", iteration).put("test_bpd", lastTest).put("best_test_bpd", best)
                .put("images_per_s", lastImagesPerSecond).put("skipped_steps", skipped)
                .put("train_seconds", trainSeconds).put("parameters", model.parameterCount())
                .put("precision", config.train().precision().label()).put("description", config.description())
                .put("weights", average != null ? "ema" : "raw");
        return s;
    }

    /** Marks the run finished in {@code summary.json}. */
    public void finish() throws IOException {
        writeSummary("finished");
    }

}
