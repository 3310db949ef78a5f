package woodflow.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.Figures;
import woodflow.core.Precision;
import woodflow.data.BatchStream;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.model.MultiScaleFlow;
import woodflow.nn.Bf16Kernels;
import woodflow.nn.ConvRouting;

import java.io.IOException;
import java.io.PrintStream;
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
 * is restored and the learning rate halved (at most {@link TrainerCheckpoints#MAX_RECOVERIES} times from one checkpoint, then the run
 * stops with the reason). ActNorm is initialised from the first training batch.
 *
 * <p>Crash safety: every file is written atomically or appended line by line (see {@link MetricsLog}), so a run
 * killed at any moment resumes from its newest intact checkpoint; a checkpoint holds the complete state (parameters,
 * Adam's moments and step, counters, the part of the current log interval), so a resumed run continues bit for bit
 * as the uninterrupted one would. Temporary files of killed writers are removed when a run starts.
 *
 * <p>The parts: this class is the loop; {@link TrainerEvaluation} the evaluations, {@link TrainerCheckpoints} the
 * run folder (checkpoints, resume, recovery, metrics, summary), {@link SelfCheck#beforeTraining} the check of the
 * fast paths before the first step, {@link DataParallel} the group, {@link RunState} the counters they share,
 * {@link WeightAverage} the moving average of the weights ({@code train.ema}; {@link #evaluationModel()}).
 *
 * <p>The learning rate of an iteration is {@link TrainConfig#lrAt} (warm-up and {@code train.schedule}, on the base
 * rate that a recovery halves); a class-conditional model trains on each image's class, from the data's labels
 * ({@link #withClassesOf}).
 */
public final class Trainer {
    /** What a finished (or stopped) run reports. */
    public record Result(long iterations, double testBpd, double bestTestBpd, double imagesPerSecond,
                         long skippedSteps, double trainSeconds, Path runDir) {
        /** "done: ..." as printed: a figure that was not measured is said so, never NaN. */
        public String line() {
            return String.format(Locale.ROOT, "done: %d iterations, test bpd %s, best %s, %s, %d skipped steps",
                    iterations, Figures.bpd(testBpd), Figures.bpd(bestTestBpd),
                    Double.isFinite(imagesPerSecond) ? String.format(Locale.ROOT, "%.1f images/s", imagesPerSecond)
                            : "no training steps timed", skippedSteps);
        }
    }

    private final RunConfig config;
    private final Path runDir;
    private final ImageSource train;
    private final ImageSource test;
    private final RunLog log;
    private final RunState state = new RunState();
    private MultiScaleFlow model;
    private Adam adam;
    /** The moving average of the weights ({@code train.ema}), or null. */
    private WeightAverage average;
    private TrainStep stepper;
    private TrainerCheckpoints checkpoints;
    private LongPredicate nanInput = it -> false;
    private LongPredicate nanGradient = it -> false;
    private double timeLimitSeconds = Double.POSITIVE_INFINITY;
    private List<String> holdout = List.of();
    private String configSource = "the given config";
    private String device = "cpu";
    private DistContext dist;
    private DataParallel group;
    private boolean overlap = true;
    private GradientReducer.Stats reducerStats;
    private long firstBucketBytes = GradientReducer.FIRST_BUCKET_BYTES;
    private long bucketBytes = GradientReducer.BUCKET_BYTES;

    public Trainer(RunConfig config, Path runDir, ImageSource train, ImageSource test, PrintStream out, boolean quiet) {
        this.config = withClassesOf(config, train, test).validate();
        this.runDir = runDir;
        this.train = train;
        this.test = test;
        this.log = new RunLog(out, quiet);
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

    /**
     * The model that evaluation, sampling and the report use: the averaged weights when {@code train.ema} is on
     * ({@link WeightAverage}), else the trained model itself.
     */
    public MultiScaleFlow evaluationModel() {
        return average != null ? average.model() : model;
    }

    /** The run's config as trained: a class-conditional model's classes filled in from the data. */
    public RunConfig config() {
        return config;
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

    /** The device the model is built on ("cpu" unless said; each rank of a group may have its own). */
    public Trainer device(String name) {
        device = name;
        return this;
    }

    /**
     * Where the config came from, as the user gave it ({@code --preset demo}, {@code --config my.yaml}): named when
     * a checkpoint to resume does not fit it.
     */
    public Trainer configSource(String source) {
        configSource = source;
        return this;
    }

    /**
     * Trains as one rank of a data-parallel group: this rank takes its rows of every global batch, the gradients are
     * averaged over the group in buckets whose all-reduces start during the backward (see {@link DataParallel}),
     * evaluation is sharded and summed, and only rank 0 writes the run folder. With the same seed and global batch
     * the run computes the steps a one-process run computes, to float32 rounding.
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

    /** Whether this process writes the run folder: a one-process run, or rank 0 of a group. */
    private boolean writer() {
        return dist == null || dist.rank() == 0;
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
        config.train().checkFits(train.size()); // before the run folder is touched
        if (!writer()) return runLocked(resume); // rank 0 holds the lock for the group
        RunLock lock = RunLock.acquire(runDir);
        boolean done = false;
        try {
            Result r = runLocked(resume);
            done = true;
            return r;
        } catch (RuntimeException | IOException e) {
            if (model != null && checkpoints != null) checkpoints.markFailed(e, state, model.parameterCount());
            throw e;
        } finally {
            if (done) lock.close();
            else lock.closeAndRemoveIfUnused(); // a start that failed before writing anything leaves no folder
        }
    }

    private Result runLocked(boolean resume) throws IOException {
        TrainConfig tc = config.train();
        stepper = TrainStep.of(config, device);
        model = stepper.model();
        adam = stepper.adam();
        average = tc.averagesWeights() ? new WeightAverage(model, tc.ema(), device) : null;
        checkpoints = new TrainerCheckpoints(config, runDir, writer(), log, configSource, average, stepsPerEpoch());
        stepper.injectFaults(nanInput, nanGradient);
        stepper.onFastPathFault(log::warn);
        if (dist != null) {
            dist.agree("config", Integer.toHexString(config.toYaml().hashCode()), "run config (hash of its YAML)");
            group = new DataParallel(dist);
            group.join(stepper, overlap, firstBucketBytes, bucketBytes);
        }
        state.lr = tc.lr();
        Checkpoint ckpt = checkpoints.open(resume, model, adam, state);
        if (dist != null) dist.agree("start", Long.toString(state.iteration), "iteration to start from");
        checkpoints.writeConfig(holdout);
        config.model().notes().forEach(n -> log.say("note: " + n));
        if (ckpt != null && state.iteration >= tc.iterations()) {
            log.warn(String.format(Locale.ROOT, "the run is already at iteration %d, at or past its %d iterations: "
                    + "nothing to train (pass a larger --iterations to continue it)", state.iteration, tc.iterations()));
        }
        log.say(String.format(Locale.ROOT, "model: %s, %d levels x %d steps, %s coupling, %,d parameters; data: %s",
                config.model().permutation(), config.model().levels(), config.model().steps(),
                config.model().coupling(), model.parameterCount(), train.describe()));
        if (model.variationalDequantizer() != null) {
            log.say(String.format(Locale.ROOT, "dequantisation: %s, %,d of the parameters, trained with the flow; the "
                    + "bpd includes -log q", model.variationalDequantizer(),
                    model.variationalDequantizer().parameterCount()));
        }
        if (config.model().classConditional()) {
            log.say("classes: " + String.join(", ", config.model().classes()) + " (the top and split priors are "
                    + "conditioned on the class" + (config.model().classLossWeight() > 0 ? ", which the top latent also "
                    + "predicts, weight " + config.model().classLossWeight() : "") + ")");
        }
        if (tc.schedule().kind() != LrSchedule.Kind.CONSTANT) {
            log.say(String.format(Locale.ROOT, "learning rate: %s from train.lr %s%s; an epoch is %d iterations",
                    tc.schedule().describe(), tc.lr(), tc.warmup() > 0 ? " after " + tc.warmup() + " iterations of "
                    + "warm-up" : "", stepsPerEpoch()));
        }
        if (average != null) {
            log.say(String.format(Locale.ROOT, "weights: evaluation, samples and the best checkpoint use the moving "
                    + "average of the weights (train.ema %s); checkpoints hold both sets", tc.ema()));
        }
        if (tc.precision() == Precision.BF16_MIXED) {
            log.say("precision: bf16-mixed, bf16 convolutions " + Bf16Kernels.current().describe());
        }
        try {
            return loop();
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; " + checkpoints.resumeHint(), e); // e.g. a full disk
        } finally {
            if (group != null) {
                group.close();
                reducerStats = group.stats();
            }
        }
    }

    private Result loop() throws IOException {
        TrainConfig tc = config.train();
        int bins = Quantization.bins(config.data().nBits());
        long total = tc.iterations();
        TrainerEvaluation evaluation = new TrainerEvaluation(config, runDir, test, group, log);
        BatchStream stream = openStream();
        try (Progress progress = Progress.create(state.iteration, total, timeLimitSeconds, log.out(), log.quiet())) {
            log.progress(progress);
            if (state.iteration == 0) {
                initialiseActNorm(stream, bins);
                if (average != null) average.reset(); // the average starts at the initialised weights
                evaluation.atStart(evaluationModel(), state, checkpoints.metrics());
            }
            // identical on every rank already (same init and data, or the same checkpoint); made exact anyway
            if (dist != null) {
                List<Tensor> shared = new ArrayList<>(model.stateDict().values());
                if (average != null) shared.addAll(average.state().values());
                dist.broadcastFromRoot(shared);
            }
            selfCheck(stream);
            long windowStart = System.nanoTime();
            long windowImages = 0;
            while (state.iteration < total && state.trainSeconds < timeLimitSeconds) {
                BatchStream.Batch batch = stream.next();
                long it = state.iteration;
                long t0 = System.nanoTime();
                double loss = step(batch.images(), batch.labels(), it);
                state.trainSeconds += (System.nanoTime() - t0) / 1e9;
                state.iteration = it + 1;
                progress.tick(state.iteration);
                if (Double.isFinite(loss)) {
                    state.logLossSum += loss;
                    state.logSteps++;
                }
                windowImages += tc.batch();
                if (state.badInARow >= tc.maxBadSteps()) {
                    checkpoints.recover(model, adam, state);
                    stream.close();
                    stream = openStream(); // the batches restart at the restored iteration
                    windowStart = System.nanoTime();
                    windowImages = 0;
                    continue;
                }
                boolean last = state.iteration == total || state.trainSeconds >= timeLimitSeconds;
                boolean evalNow = state.iteration % tc.evalEvery() == 0 || last;
                if (state.iteration % tc.logEvery() == 0 || evalNow) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    state.lastImagesPerSecond = windowImages / secs;
                    logInterval(progress);
                    windowStart = System.nanoTime();
                    windowImages = 0;
                }
                if (evalNow) {
                    evaluation.evaluate(evaluationModel(), model, adam, state, checkpoints);
                    windowStart = System.nanoTime();
                }
                if (state.iteration % tc.checkpointEvery() == 0 || last) checkpoints.save(model, adam, state);
            }
        } finally {
            log.progress(null);
            stream.close();
        }
        return new Result(state.iteration, state.lastTest, state.best, state.lastImagesPerSecond, state.skipped,
                state.trainSeconds, runDir);
    }

    /** The metrics record and progress line of a log interval. */
    private void logInterval(Progress progress) throws IOException {
        double trainBpd = state.closeLogInterval();
        MetricsLog metrics = checkpoints.metrics();
        ObjectNode r = metrics.newRecord();
        double stepLr = currentLr(state.iteration - 1); // the rate the last step trained at
        r.put("iteration", state.iteration).put("train_bpd", trainBpd).put("images_per_s", state.lastImagesPerSecond)
                .put("lr", stepLr).put("skipped_steps", state.skipped)
                .put("train_seconds", state.trainSeconds);
        metrics.append(r);
        progress.update(state.iteration, trainBpd, state.lastImagesPerSecond, state.lastTest, state.lastTestIteration,
                state.trainSeconds, state.skipped, stepLr);
    }

    /** The training stream from the current iteration: batch i depends only on (seed, i). */
    private BatchStream openStream() {
        int workers = config.data().workers() != null ? config.data().workers() : 2;
        return BatchStream.shuffled(train, config.train().batch(), config.train().seed(), state.iteration, workers, 4,
                config.model().classConditional());
    }

    /** ActNorm's data-dependent initialisation on the first training batch. */
    private void initialiseActNorm(BatchStream stream, int bins) {
        List<byte[]> first = new ArrayList<>();
        int[] at = new int[config.train().batch()];
        for (int p = 0; p < at.length; p++) first.add(train.image(at[p] = stream.indexAt(p)));
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
                var c = model.classConditional() ? model.conditionedOn(labelsOf(at)) : null) {
            model.bitsPerDim(stepper.dequantize(batchTensor(first), -1), bins);
        }
    }

    /** The check of the fast paths before the first step of this session, on the batch about to be trained on. */
    private void selfCheck(BatchStream stream) {
        // each run checks afresh: what an earlier run in this process routed (a test, a study's cell) is forgotten
        ConvRouting.reset();
        List<byte[]> next = new ArrayList<>();
        long from = state.iteration * config.train().batch();
        int[] at = new int[config.train().batch()];
        for (int p = 0; p < at.length; p++) next.add(train.image(at[p] = stream.indexAt(from + p)));
        int[] labels = model.classConditional() ? labelsOf(at) : null;
        // a rank checks the shapes it trains on: its rows of the batch (the batch size is part of a shape)
        if (group != null) {
            next = group.rowsOf(next);
            if (labels != null) labels = group.rowsOf(labels);
        }
        try (PointerScope scope = new PointerScope()) {
            SelfCheck.beforeTraining(stepper, batchTensor(next), labels, state.iteration,
                    model.parameters().get(0).device().str().getString(), log);
        }
    }

    /** The learning rate of iteration {@code it}: the warm-up and {@code train.schedule} applied to the base rate. */
    private double currentLr(long it) {
        return config.train().lrAt(state.lr, it, stepsPerEpoch());
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
     * the step was skipped. An applied step also moves the average of the weights.
     */
    private double step(List<byte[]> imgs, int[] labels, long it) {
        double loss;
        if (group != null) {
            imgs = group.rowsOf(imgs);
            if (labels != null) labels = group.rowsOf(labels);
        }
        try (PointerScope scope = new PointerScope()) {
            loss = stepper.run(batchTensor(imgs), labels, it, currentLr(it));
        }
        state.stepped(loss);
        if (!Double.isNaN(loss) && average != null) average.update(adam.step());
        return loss;
    }

    private Tensor batchTensor(List<byte[]> images) {
        return Quantization.stack(images, train.channels(), train.height(), train.width());
    }

    /** Writes {@code summary.json} atomically. */
    public void writeSummary(SummaryStatus status) throws IOException {
        checkpoints.writeSummary(status, state, model.parameterCount());
    }

    /** Marks the run finished in {@code summary.json}. */
    public void finish() throws IOException {
        writeSummary(SummaryStatus.FINISHED);
    }
}
