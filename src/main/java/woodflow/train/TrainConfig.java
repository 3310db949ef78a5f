package woodflow.train;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import woodflow.core.Precision;

import java.util.ArrayList;
import java.util.List;

/**
 * How a model is trained (Lu &amp; Huang 2020, supplement Appendix C.2): Adam with α = 1e-3, β = (0.9, 0.999) by
 * default, optional linear warm-up, gradient-norm clipping and decoupled weight decay; the evaluation, sampling and
 * checkpoint intervals; precision and backpropagation mode. Missing fields take the defaults below.
 *
 * <p>{@code ema: DECAY} (0, off, by default; e.g. 0.999) keeps an exponential moving average of the weights
 * ({@link WeightAverage}, Polyak averaging as in Glow and Flow++): evaluation, the best checkpoint, samples, the
 * report and the dashboard then use the averaged weights; checkpoints hold both sets ({@code --weights raw|ema}
 * chooses in eval, sample, score, export and interpolate).
 *
 * <p>{@code schedule} ({@link LrSchedule}): {@code constant} (the default), {@code exponential} (per epoch, with
 * {@code decay} and {@code floor}: 0.95 and 0.01 are the official code's rule) or {@code cosine} (to {@code floor}
 * over the run), e.g. {@code schedule: {kind: exponential, decay: 0.95, floor: 0.01}}; the warm-up applies to all.
 *
 * <p>{@code sample_every} is gone: it was validated and set in presets but never read (samples are drawn at each
 * evaluation). Configs and checkpoints that still hold it load as before; the key is accepted and ignored, and no
 * longer written.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties({"sample_every"})
public record TrainConfig(
        @JsonProperty("batch") Integer batch,
        @JsonProperty("iterations") Integer iterations,
        @JsonProperty("lr") Double lr,
        @JsonProperty("beta1") Double beta1,
        @JsonProperty("beta2") Double beta2,
        @JsonProperty("eps") Double eps,
        @JsonProperty("warmup") Integer warmup,
        @JsonProperty("clip") Double clip,
        @JsonProperty("weight_decay") Double weightDecay,
        @JsonProperty("eval_every") Integer evalEvery,
        @JsonProperty("eval_batch") Integer evalBatch,
        @JsonProperty("eval_seed") Long evalSeed,
        @JsonProperty("log_every") Integer logEvery,
        @JsonProperty("checkpoint_every") Integer checkpointEvery,
        @JsonProperty("keep_checkpoints") Integer keepCheckpoints,
        @JsonProperty("seed") Long seed,
        @JsonProperty("precision") Precision precision,
        @JsonProperty("backprop") Backprop backprop,
        @JsonProperty("max_bad_steps") Integer maxBadSteps,
        @JsonProperty("temperatures") double[] temperatures,
        @JsonProperty("drift_check") Double driftCheck,
        @JsonProperty("ema") Double ema,
        @JsonProperty("schedule") LrSchedule schedule) {

    public TrainConfig {
        batch = batch == null ? 32 : batch;
        iterations = iterations == null ? 1000 : iterations;
        lr = lr == null ? 1e-3 : lr;
        beta1 = beta1 == null ? 0.9 : beta1;
        beta2 = beta2 == null ? 0.999 : beta2;
        eps = eps == null ? 1e-8 : eps;
        warmup = warmup == null ? 0 : warmup;
        clip = clip == null ? 0.0 : clip;
        weightDecay = weightDecay == null ? 0.0 : weightDecay;
        evalEvery = evalEvery == null ? 100 : evalEvery;
        evalBatch = evalBatch == null ? 100 : evalBatch;
        evalSeed = evalSeed == null ? 4321L : evalSeed;
        logEvery = logEvery == null ? 10 : logEvery;
        checkpointEvery = checkpointEvery == null ? evalEvery : checkpointEvery;
        keepCheckpoints = keepCheckpoints == null ? 3 : keepCheckpoints;
        seed = seed == null ? 0L : seed;
        precision = precision == null ? Precision.FP32 : precision;
        backprop = backprop == null ? Backprop.STANDARD : backprop;
        maxBadSteps = maxBadSteps == null ? 5 : maxBadSteps;
        temperatures = temperatures == null ? new double[] {0.5, 0.7, 0.875, 1.0} : temperatures;
        driftCheck = driftCheck == null ? 0.0 : driftCheck;
        ema = ema == null ? 0.0 : ema;
        schedule = schedule == null ? LrSchedule.CONSTANT : schedule;
    }

    public static TrainConfig defaults() {
        return new TrainConfig(null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null);
    }

    public TrainConfig validate() {
        List<String> p = new ArrayList<>();
        if (batch < 1) p.add("batch must be at least 1, got " + batch);
        if (iterations < 1) {
            p.add("iterations must be at least 1 (a run of 0 iterations trains nothing), got " + iterations
                    + "; to measure a checkpoint without training, use `woodflow eval`");
        }
        if (!(lr > 0) || Double.isInfinite(lr)) p.add("lr must be a positive number, got " + lr);
        if (!(beta1 >= 0 && beta1 < 1)) p.add("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) p.add("beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0)) p.add("eps must be positive, got " + eps);
        if (warmup < 0) p.add("warmup must be >= 0, got " + warmup);
        if (!(clip >= 0)) p.add("clip must be >= 0 (0 = off), got " + clip);
        if (!(weightDecay >= 0)) p.add("weight_decay must be >= 0, got " + weightDecay);
        if (evalEvery < 1) p.add("eval_every must be at least 1, got " + evalEvery);
        if (evalBatch < 1) p.add("eval_batch must be at least 1, got " + evalBatch);
        if (logEvery < 1) p.add("log_every must be at least 1, got " + logEvery);
        if (checkpointEvery < 1) p.add("checkpoint_every must be at least 1, got " + checkpointEvery);
        if (keepCheckpoints < 1) p.add("keep_checkpoints must be at least 1, got " + keepCheckpoints);
        if (maxBadSteps < 1) p.add("max_bad_steps must be at least 1, got " + maxBadSteps);
        if (!(driftCheck >= 0)) p.add("drift_check must be >= 0 (0 = off), got " + driftCheck);
        if (!(ema == 0 || ema > 0 && ema < 1)) {
            p.add("ema must be a decay in (0, 1), e.g. 0.999 (0 = off), got " + ema);
        }
        p.addAll(schedule.problems());
        for (double t : temperatures) {
            if (!(t > 0) || Double.isInfinite(t)) p.add("temperatures must be finite and > 0, got " + t);
        }
        if (!p.isEmpty()) throw new IllegalArgumentException(String.join("; ", p));
        return this;
    }

    /**
     * The learning rate of iteration {@code it} (0-based) for base rate {@code base} (train.lr, or what a recovery
     * lowered it to), in epochs of {@code stepsPerEpoch} iterations: the warm-up times the schedule
     * ({@link LrSchedule}).
     */
    public double lrAt(double base, long it, long stepsPerEpoch) {
        return schedule.lr(base, it, warmup, iterations, stepsPerEpoch);
    }

    /** Whether the weights are averaged ({@code train.ema} above 0). */
    public boolean averagesWeights() {
        return ema > 0;
    }

    /**
     * Refuses a batch larger than the training set it is drawn from ({@code trainImages} images): every step would
     * repeat images within its batch, which no one asking for that batch means.
     */
    public void checkFits(int trainImages) {
        if (batch > trainImages) {
            throw new IllegalArgumentException("train.batch " + batch + " is larger than the training set, which holds "
                    + trainImages + " images: every step would repeat images within its batch; lower train.batch to "
                    + "at most " + trainImages + ", or train on more images");
        }
    }

    /** A builder holding this config's fields, to change some and {@link Builder#build()} a new one. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The fields of a {@link TrainConfig}, each settable by name: one place that lists them all, so that an override
     * of one field (a command-line option, a study's seed, a budget) does not copy the other twenty by hand. A null
     * leaves a field as it is, so an option the user did not give overrides nothing (every field has a default: null
     * never means "none").
     */
    public static final class Builder {
        private Integer batch;
        private Integer iterations;
        private Double lr;
        private Double beta1;
        private Double beta2;
        private Double eps;
        private Integer warmup;
        private Double clip;
        private Double weightDecay;
        private Integer evalEvery;
        private Integer evalBatch;
        private Long evalSeed;
        private Integer logEvery;
        private Integer checkpointEvery;
        private Integer keepCheckpoints;
        private Long seed;
        private Precision precision;
        private Backprop backprop;
        private Integer maxBadSteps;
        private double[] temperatures;
        private Double driftCheck;
        private Double ema;
        private LrSchedule schedule;

        private Builder(TrainConfig t) {
            batch = t.batch;
            iterations = t.iterations;
            lr = t.lr;
            beta1 = t.beta1;
            beta2 = t.beta2;
            eps = t.eps;
            warmup = t.warmup;
            clip = t.clip;
            weightDecay = t.weightDecay;
            evalEvery = t.evalEvery;
            evalBatch = t.evalBatch;
            evalSeed = t.evalSeed;
            logEvery = t.logEvery;
            checkpointEvery = t.checkpointEvery;
            keepCheckpoints = t.keepCheckpoints;
            seed = t.seed;
            precision = t.precision;
            backprop = t.backprop;
            maxBadSteps = t.maxBadSteps;
            temperatures = t.temperatures;
            driftCheck = t.driftCheck;
            ema = t.ema;
            schedule = t.schedule;
        }

        private static <T> T or(T given, T kept) {
            return given != null ? given : kept;
        }

        public Builder batch(Integer v) {
            batch = or(v, batch);
            return this;
        }

        public Builder iterations(Integer v) {
            iterations = or(v, iterations);
            return this;
        }

        public Builder lr(Double v) {
            lr = or(v, lr);
            return this;
        }

        public Builder beta1(Double v) {
            beta1 = or(v, beta1);
            return this;
        }

        public Builder beta2(Double v) {
            beta2 = or(v, beta2);
            return this;
        }

        public Builder eps(Double v) {
            eps = or(v, eps);
            return this;
        }

        public Builder warmup(Integer v) {
            warmup = or(v, warmup);
            return this;
        }

        public Builder clip(Double v) {
            clip = or(v, clip);
            return this;
        }

        public Builder weightDecay(Double v) {
            weightDecay = or(v, weightDecay);
            return this;
        }

        public Builder evalEvery(Integer v) {
            evalEvery = or(v, evalEvery);
            return this;
        }

        public Builder evalBatch(Integer v) {
            evalBatch = or(v, evalBatch);
            return this;
        }

        public Builder evalSeed(Long v) {
            evalSeed = or(v, evalSeed);
            return this;
        }

        public Builder logEvery(Integer v) {
            logEvery = or(v, logEvery);
            return this;
        }

        public Builder checkpointEvery(Integer v) {
            checkpointEvery = or(v, checkpointEvery);
            return this;
        }

        public Builder keepCheckpoints(Integer v) {
            keepCheckpoints = or(v, keepCheckpoints);
            return this;
        }

        public Builder seed(Long v) {
            seed = or(v, seed);
            return this;
        }

        public Builder precision(Precision v) {
            precision = or(v, precision);
            return this;
        }

        public Builder backprop(Backprop v) {
            backprop = or(v, backprop);
            return this;
        }

        public Builder maxBadSteps(Integer v) {
            maxBadSteps = or(v, maxBadSteps);
            return this;
        }

        public Builder temperatures(double[] v) {
            temperatures = or(v, temperatures);
            return this;
        }

        public Builder driftCheck(Double v) {
            driftCheck = or(v, driftCheck);
            return this;
        }

        /** The decay of the moving average of the weights; 0 turns it off. */
        public Builder ema(Double v) {
            ema = or(v, ema);
            return this;
        }

        public Builder schedule(LrSchedule v) {
            schedule = or(v, schedule);
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(batch, iterations, lr, beta1, beta2, eps, warmup, clip,
                    weightDecay, evalEvery, evalBatch, evalSeed, logEvery, checkpointEvery, keepCheckpoints,
                    seed, precision, backprop, maxBadSteps, temperatures, driftCheck, ema, schedule);
        }
    }
}
