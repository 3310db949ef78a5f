package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.Init;
import woodflow.io.AtomicFiles;
import woodflow.io.SafeTensors;
import woodflow.model.MultiScaleFlow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint: one safetensors file (a numpy or PyTorch user opens it with
 * {@code safetensors.numpy.load_file}) holding the model's parameters and buffers ({@code model.*}, ActNorm's
 * "initialised" flags included), Adam's moments ({@code adam.m.*}, {@code adam.v.*}) and, when {@code train.ema} is on,
 * the moving average of the parameters ({@code ema.*}, see {@link WeightAverage}), with the full run config (a
 * class-conditional model's class names included),
 * the iteration, Adam's step, the best test bpd, the learning rate and the random state in its metadata.
 * Randomness in training is a function of (seed, iteration) only, so those two numbers are the complete RNG state.
 * Files are written atomically and carry a SHA-256 of their data.
 */
public record Checkpoint(RunConfig config, Map<String, Tensor> tensors, TrainState state, Path file) {

    /**
     * Counters of a run that a checkpoint restores. {@code logLossSum} and {@code logSteps} are the part of the
     * current log interval already trained (so a resumed run logs the same train bpd as an uninterrupted one), and
     * {@code badInARow} the non-finite steps just before the checkpoint.
     */
    public record TrainState(long iteration, long adamStep, double bestTestBpd, double lr, long skippedSteps,
                             double trainSeconds, double logLossSum, int logSteps, int badInARow) {
        public TrainState(long iteration, long adamStep, double bestTestBpd, double lr, long skippedSteps,
                          double trainSeconds) {
            this(iteration, adamStep, bestTestBpd, lr, skippedSteps, trainSeconds, 0, 0, 0);
        }

        public static TrainState fresh(double lr) {
            return new TrainState(0, 0, Double.NaN, lr, 0, 0);
        }
    }

    public static void save(Path file, RunConfig config, MultiScaleFlow model, Adam adam, TrainState st)
            throws IOException {
        save(file, config, model, adam, st, Map.of());
    }

    /**
     * Writes a checkpoint with {@code extra} tensors beside the model's and Adam's, under their own names (the
     * averaged weights, {@code ema.NAME}).
     */
    public static void save(Path file, RunConfig config, MultiScaleFlow model, Adam adam, TrainState st,
                            Map<String, Tensor> extra) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((k, t) -> tensors.put("model." + k, t));
        if (adam != null) tensors.putAll(adam.state());
        tensors.putAll(extra);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "woodflow-checkpoint-1");
        meta.put("config", config.toJson());
        meta.put("iteration", Long.toString(st.iteration()));
        meta.put("adam_step", Long.toString(st.adamStep()));
        meta.put("best_test_bpd", Double.toString(st.bestTestBpd()));
        meta.put("lr", Double.toString(st.lr()));
        meta.put("skipped_steps", Long.toString(st.skippedSteps()));
        meta.put("train_seconds", Double.toString(st.trainSeconds()));
        meta.put("log_loss_sum", Double.toString(st.logLossSum()));
        meta.put("log_steps", Integer.toString(st.logSteps()));
        meta.put("bad_steps_in_a_row", Integer.toString(st.badInARow()));
        meta.put("seed", Long.toString(config.train().seed()));
        SafeTensors.save(file, tensors, meta);
    }

    /**
     * Reads a checkpoint. Throws {@link IOException} naming the file when it is missing, truncated, corrupt
     * (checksum mismatch) or not a woodflow checkpoint.
     */
    public static Checkpoint read(Path file) throws IOException {
        SafeTensors.Contents c;
        try {
            c = SafeTensors.read(file, "checkpoint " + file);
        } catch (NoSuchFileException e) {
            throw new IOException("checkpoint " + file + " does not exist");
        }
        Map<String, String> m = c.metadata();
        if (!"woodflow-checkpoint-1".equals(m.get("format")) || !m.containsKey("config")) {
            throw new IOException(file + " is a safetensors file but not a woodflow checkpoint (no config in it)");
        }
        RunConfig config;
        TrainState st;
        try {
            config = RunConfig.fromJson(m.get("config"));
            st = new TrainState(Long.parseLong(m.get("iteration")), Long.parseLong(m.get("adam_step")),
                    Double.parseDouble(m.get("best_test_bpd")), Double.parseDouble(m.get("lr")),
                    Long.parseLong(m.getOrDefault("skipped_steps", "0")),
                    Double.parseDouble(m.getOrDefault("train_seconds", "0")),
                    Double.parseDouble(m.getOrDefault("log_loss_sum", "0")),
                    Integer.parseInt(m.getOrDefault("log_steps", "0")),
                    Integer.parseInt(m.getOrDefault("bad_steps_in_a_row", "0")));
        } catch (RuntimeException e) {
            throw new IOException(file + ": invalid checkpoint metadata (" + e.getMessage() + ")", e);
        }
        return new Checkpoint(config, c.tensors(), st, file);
    }

    /** The trained (raw) model's state ({@code model.*} without the prefix). */
    public Map<String, Tensor> modelState() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, t) -> {
            if (k.startsWith("model.")) out.put(k.substring(6), t);
        });
        return out;
    }

    /** Whether the checkpoint holds averaged weights ({@code ema.*}, written when {@code train.ema} is on). */
    public boolean hasAverage() {
        return tensors.keySet().stream().anyMatch(k -> k.startsWith(WeightAverage.PREFIX));
    }

    /** The weights a command uses when the user does not say: the averaged ones when present, else the raw ones. */
    public Weights defaultWeights() {
        return hasAverage() ? Weights.EMA : Weights.RAW;
    }

    /**
     * The state of the model with the chosen weights: {@code raw} is {@link #modelState()}; {@code ema} the same
     * buffers with every parameter replaced by its average; null means {@link #defaultWeights()}. Asking for
     * averaged weights a checkpoint lacks is an error that says how to get them.
     */
    public Map<String, Tensor> modelState(Weights weights) {
        Weights w = weights == null ? defaultWeights() : weights;
        Map<String, Tensor> out = modelState();
        if (w == Weights.RAW) return out;
        if (!hasAverage()) {
            throw new IllegalArgumentException("checkpoint " + file + " holds no averaged weights (its run trained "
                    + "without train.ema); use --weights raw, or train with train.ema: 0.999");
        }
        for (var e : out.entrySet()) {
            Tensor avg = tensors.get(WeightAverage.PREFIX + e.getKey());
            if (avg != null) e.setValue(avg);
        }
        return out;
    }

    /** What {@code weights} means for this checkpoint, for a command's output: "raw" or "ema (decay 0.999)". */
    public String describeWeights(Weights weights) {
        Weights w = weights == null ? defaultWeights() : weights;
        return w == Weights.RAW ? "raw" : String.format(java.util.Locale.ROOT, "ema (averaged, decay %s)",
                config.train().ema());
    }

    /** Builds the checkpoint's model (float32, on the CPU) with its default weights and loads its state. */
    public MultiScaleFlow model() {
        return model("cpu");
    }

    /** Builds the checkpoint's model (float32) on {@code device} with its default weights (see {@link #model(String, Weights)}). */
    public MultiScaleFlow model(String device) {
        return model(device, null);
    }

    /**
     * Builds the checkpoint's model (float32) on {@code device} with the chosen weights (null: the averaged ones when
     * the checkpoint holds them, else the raw ones).
     */
    public MultiScaleFlow model(String device, Weights weights) {
        Map<String, Tensor> state = modelState(weights);
        MultiScaleFlow model = new MultiScaleFlow(config.model(), Init.float32(device));
        try {
            model.loadStateDict(state);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint " + file + ": " + e.getMessage());
        }
        return model;
    }

    /**
     * Why this checkpoint cannot be resumed with a model of {@code model} (given by {@code source}, e.g. "--config
     * my.yaml"): the first three config fields that differ and the count of saved tensors that do not fit; the
     * tensors themselves when the configs agree.
     */
    IllegalArgumentException doesNotFit(woodflow.model.ModelConfig model, String source,
            woodflow.core.StateMismatchException e) {
        return doesNotFit(model, source, e, null);
    }

    /**
     * As {@link #doesNotFit(woodflow.model.ModelConfig, String, woodflow.core.StateMismatchException)}; when the
     * config is the run's own {@code runConfig} (edited since the checkpoint was written), the fix is to put the
     * checkpoint's values back in that file, or to train the edited model into another folder: leaving out the file
     * is no fix, since it is what --resume reads.
     */
    IllegalArgumentException doesNotFit(woodflow.model.ModelConfig model, String source,
            woodflow.core.StateMismatchException e, Path runConfig) {
        java.util.List<String> fields = new java.util.ArrayList<>();
        for (var d : config.model().differences(model)) {
            fields.add("model." + d.field() + " is " + d.mine() + " in the checkpoint, " + d.theirs() + " in " + source);
        }
        if (fields.size() > 3) {
            fields = java.util.List.of(String.join("; ", fields.subList(0, 3)) + " (and " + (fields.size() - 3)
                    + " more fields)");
        }
        String why = "checkpoint " + file + " was written by a different model than this run's config describes: "
                + (fields.isEmpty() ? e.getMessage() : String.join("; ", fields) + " (" + e.count()
                + " saved tensors do not fit)");
        if (runConfig != null) {
            java.util.List<String> back = new java.util.ArrayList<>();
            for (var d : config.model().differences(model)) back.add(d.field() + ": " + d.mine());
            return new IllegalArgumentException(why + "; " + runConfig + " was edited after the checkpoint was "
                    + "written: put back " + (back.isEmpty() ? "the model section it was trained with"
                    : String.join(", ", back.subList(0, Math.min(3, back.size())))) + " in its model section to "
                    + "resume, or train the edited model into a new folder (`woodflow train --config " + runConfig
                    + " --out NEW`)");
        }
        return new IllegalArgumentException(why + "; resume with the run's own config (omit " + source
                + ") or train into another --out");
    }

    /** Reads a checkpoint file and returns its model, ready for evaluation. */
    public static MultiScaleFlow loadModel(Path file) throws IOException {
        MultiScaleFlow m = read(file).model();
        m.train(false);
        return m;
    }
}
