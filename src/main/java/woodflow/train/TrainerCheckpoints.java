package woodflow.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import woodflow.core.Figures;
import woodflow.core.NumericalException;
import woodflow.core.Reasons;
import woodflow.core.StateMismatchException;
import woodflow.io.AtomicFiles;
import woodflow.model.MultiScaleFlow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The {@link Trainer}'s run folder: starting it or resuming it from its newest intact checkpoint, the periodic and
 * best checkpoints, the recovery from a run of non-finite steps, the metrics log and the summary. Only the writer
 * (one process, or rank 0 of a group) writes; the other ranks restore the same checkpoints and discard their metrics.
 * Every file is written atomically or appended line by line ({@link MetricsLog}), so a run killed at any moment
 * resumes from its newest intact checkpoint.
 */
final class TrainerCheckpoints {
    /** Restores from one checkpoint (each halving the learning rate) before the run gives up. */
    static final int MAX_RECOVERIES = 3;

    private final RunConfig config;
    private final Path runDir;
    private final CheckpointStore store;
    private final boolean writer;
    private final RunLog log;
    private final String configSource;
    /** The moving average of the weights, saved and restored with the model; null when train.ema is off. */
    private final WeightAverage average;
    private final long stepsPerEpoch;
    private MetricsLog metrics;

    /**
     * {@code average}: the run's moving average of the weights (null: none); {@code stepsPerEpoch}: the iterations of
     * an epoch, for the learning rate a resumed run says it moves to.
     */
    TrainerCheckpoints(RunConfig config, Path runDir, boolean writer, RunLog log, String configSource,
                       WeightAverage average, long stepsPerEpoch) {
        this.average = average;
        this.stepsPerEpoch = stepsPerEpoch;
        this.config = config;
        this.runDir = runDir;
        this.store = new CheckpointStore(runDir, config.train().keepCheckpoints());
        this.writer = writer;
        this.log = log;
        this.configSource = configSource;
    }

    /** The metrics log (null until {@link #open}). */
    MetricsLog metrics() {
        return metrics;
    }

    /**
     * Starts the folder: temporary files of killed writers removed, then with {@code resume} the newest intact
     * checkpoint restored into the model, the optimiser and the state (its metrics kept up to it), else a new metrics
     * log (refused over existing checkpoints). Returns the checkpoint resumed from, or null.
     */
    Checkpoint open(boolean resume, MultiScaleFlow model, Adam adam, RunState state) throws IOException {
        if (writer) {
            for (Path d : List.of(runDir, store.dir(), runDir.resolve("samples"))) AtomicFiles.removeStaleTemporaries(d);
        }
        Checkpoint ckpt = resume ? store.forResume(log::warn) : null;
        if (resume && ckpt == null) log.say("no checkpoint in " + runDir + ": starting a new run");
        if (ckpt != null) {
            restore(ckpt, model, adam, state);
            metrics = writer ? MetricsLog.openForResume(runDir.resolve("metrics.jsonl"), state.iteration)
                    : MetricsLog.discarding();
            // what the run measured last, so a run resumed at its end reports it (not NaN) and keeps it in the summary
            MetricsLog.Last last = MetricsLog.last(runDir.resolve("metrics.jsonl"), state.iteration);
            state.lastTest = last.testBpd();
            state.lastTestIteration = last.testIteration();
            state.lastImagesPerSecond = last.imagesPerSecond();
            log.say(String.format(Locale.ROOT, "resumed from %s at iteration %d (best test bpd %s)",
                    runDir.relativize(ckpt.file()), state.iteration, Figures.bpd(state.best)));
        } else {
            if (!resume && store.holdsAny()) {
                throw new IllegalStateException("run folder " + runDir + " already holds checkpoints: pass --resume to "
                        + "continue it, or choose another --out");
            }
            metrics = writer ? MetricsLog.create(runDir.resolve("metrics.jsonl")) : MetricsLog.discarding();
            state.iteration = 0;
        }
        return ckpt;
    }

    /** Writes {@code config.yaml} and, for a seeded hold-out, {@code holdout.txt}. */
    void writeConfig(List<String> holdout) throws IOException {
        if (!writer) return;
        // the user's own config.yaml (resumed with it) keeps its comments when it says what the run does
        if (!config.isHeldBy(runDir.resolve("config.yaml"))) {
            AtomicFiles.writeString(runDir.resolve("config.yaml"), config.toYaml());
        }
        if (!holdout.isEmpty()) {
            AtomicFiles.writeString(runDir.resolve("holdout.txt"), String.join("\n", holdout) + "\n");
        }
    }

    private void restore(Checkpoint ckpt, MultiScaleFlow model, Adam adam, RunState state) {
        try {
            model.loadStateDict(ckpt.modelState());
        } catch (StateMismatchException e) {
            throw ckpt.doesNotFit(config, configSource, e, ownConfigFile());
        }
        adam.load(ckpt.tensors(), ckpt.state().adamStep());
        if (average != null && !average.load(ckpt.tensors())) {
            average.reset();
            log.say("note: " + runDir.relativize(ckpt.file()) + " holds no averaged weights (train.ema was off): the "
                    + "average starts from this checkpoint's weights");
        }
        TrainConfig was = ckpt.config().train(), now = config.train();
        if (now.schedule().kind() == LrSchedule.Kind.COSINE && was.iterations().intValue() != now.iterations()
                && state.recoveries == 0) {
            log.say(String.format(Locale.ROOT, "note: the cosine schedule now spans %d iterations instead of %d: at "
                    + "iteration %d the learning rate moves from %.3g to %.3g", now.iterations(), was.iterations(),
                    ckpt.state().iteration(), was.lrAt(ckpt.state().lr(), ckpt.state().iteration(), stepsPerEpoch),
                    now.lrAt(ckpt.state().lr(), ckpt.state().iteration(), stepsPerEpoch)));
        }
        state.restore(ckpt.state());
    }

    /** What a checkpoint holds beside the model and Adam: the averaged weights, when they are kept. */
    private java.util.Map<String, org.bytedeco.pytorch.Tensor> extra() {
        return average != null ? average.state() : java.util.Map.of();
    }

    /** The run's own config.yaml when the config was read from it (--resume alone, or --config RUN/config.yaml). */
    private Path ownConfigFile() {
        Path own = runDir.resolve("config.yaml");
        String given = configSource.startsWith("--config ") ? configSource.substring("--config ".length()) : configSource;
        try {
            return Files.exists(own) && Files.isSameFile(own, Path.of(given)) ? own : null;
        } catch (IOException | java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    /** The checkpoint of the current iteration (the older ones beyond the kept number removed). */
    void save(MultiScaleFlow model, Adam adam, RunState state) throws IOException {
        state.recoveries = 0; // on every rank: they must give up on the same recovery
        if (!writer) return;
        Checkpoint.save(store.pathFor(state.iteration), config, model, adam, state.saved(adam.step()), extra());
        store.prune();
    }

    /** {@code best.safetensors}: the model of the best test bpd so far. */
    void saveBest(MultiScaleFlow model, Adam adam, RunState state) throws IOException {
        if (writer) Checkpoint.save(store.best(), config, model, adam, state.saved(adam.step()), extra());
    }

    /**
     * After too many bad steps in a row: back to the last good checkpoint with half the learning rate. The metrics
     * past that checkpoint are dropped (the run continues from it) and a "recovered" record is written; the
     * checkpoint is rewritten with the lowered rate, so a run killed now resumes with it. The best test bpd seen so
     * far is kept (best.safetensors still holds that model).
     */
    void recover(MultiScaleFlow model, Adam adam, RunState state) throws IOException {
        int bad = state.badInARow;
        Checkpoint c = store.latestValid(log::warn);
        if (c == null) {
            throw new NumericalException(bad + " training steps in a row had a non-finite loss or gradient before "
                    + "the first checkpoint; lower the learning rate (train.lr) or enable clipping (train.clip)");
        }
        if (state.recoveries >= MAX_RECOVERIES) {
            throw new NumericalException(String.format(Locale.ROOT, "training still produces non-finite losses or "
                    + "gradients after restoring %s %d times with a halved learning rate each time (now %.3g); check "
                    + "the data for bad values, or enable clipping (train.clip)", c.file().getFileName(),
                    MAX_RECOVERIES, state.lr));
        }
        long skippedSoFar = state.skipped;
        double secondsSoFar = state.trainSeconds;
        double bestSoFar = state.best;
        restore(c, model, adam, state);
        state.skipped = skippedSoFar;
        state.trainSeconds = secondsSoFar;
        if (Double.isNaN(state.best) || bestSoFar < state.best) state.best = bestSoFar;
        state.lr = state.lr / 2;
        state.badInARow = 0;
        state.recoveries++;
        metrics.truncateAfter(state.iteration);
        ObjectNode r = metrics.newRecord();
        r.put("iteration", state.iteration).put("event", MetricsLog.RECOVERED)
                .put("restored", c.file().getFileName().toString()).put("lr", state.lr)
                .put("skipped_steps", state.skipped);
        metrics.append(r);
        if (writer) Checkpoint.save(c.file(), config, model, adam, state.saved(adam.step()), extra());
        log.notice(String.format(Locale.ROOT, "%d non-finite steps in a row: restored %s and lowered the learning rate "
                + "to %.3g", bad, c.file().getFileName(), state.lr));
    }

    /** Writes {@code summary.json} atomically. */
    void writeSummary(SummaryStatus status, RunState state, long parameters) throws IOException {
        if (!writer) return;
        AtomicFiles.writeString(runDir.resolve("summary.json"), summary(status, state, parameters).toPrettyString()
                + "\n");
    }

    /**
     * Writes {@code summary.json} with status "failed" and the reason, so that a dashboard can tell a run that
     * stopped on an error from one that was killed. Best effort: the original error is what the caller sees.
     */
    void markFailed(Exception e, RunState state, long parameters) {
        if (metrics == null || !writer) return; // before the run started, or not rank 0
        try {
            ObjectNode s = summary(SummaryStatus.FAILED, state, parameters);
            s.put("error", Reasons.of(e));
            AtomicFiles.writeString(runDir.resolve("summary.json"), s.toPrettyString() + "\n");
        } catch (IOException | RuntimeException ignored) {
            // e.g. the disk is full: the run folder then shows a stopped run without a summary
        }
    }

    private ObjectNode summary(SummaryStatus status, RunState state, long parameters) {
        ObjectNode s = metrics.newRecord();
        s.put("status", status.label()).put("iterations", state.iteration);
        figure(s, "test_bpd", state.lastTest);
        figure(s, "best_test_bpd", state.best);
        figure(s, "images_per_s", state.lastImagesPerSecond);
        s.put("skipped_steps", state.skipped).put("train_seconds", state.trainSeconds)
                .put("parameters", parameters).put("precision", config.train().precision().label())
                .put("description", config.description()).put("weights", average != null ? "ema" : "raw");
        return s;
    }

    /** A figure of the summary: null (not "NaN") when it was not measured. */
    private static void figure(ObjectNode s, String key, double v) {
        if (Double.isFinite(v)) s.put(key, v);
        else s.putNull(key);
    }

    /** The advice a failed write ends with: up to which checkpoint the run is kept, and how to continue it. */
    String resumeHint() {
        return store.resumeHint();
    }
}
