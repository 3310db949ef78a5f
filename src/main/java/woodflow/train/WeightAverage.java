package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static woodflow.core.Tensors.s;

/**
 * An exponential moving average of a model's parameters (Polyak averaging, as Glow and Flow++ evaluate and sample
 * with; {@code train.ema: DECAY}), kept as a second model of the same architecture whose parameters are the
 * averages, so evaluation, sampling and the report run it like any model:
 * <pre>
 *   after the t-th applied optimiser step:   avg = d_t avg + (1 - d_t) theta,   d_t = min(decay, (1 + t) / (10 + t))
 * </pre>
 * The ramp {@code (1 + t) / (10 + t)} (TensorFlow's {@code ExponentialMovingAverage} with {@code num_updates}) keeps
 * the average from clinging to the initial weights in a short run: with a constant 0.999 the weights of iteration 0
 * would still carry 22% of the average after 1,500 steps. Buffers (ActNorm's "initialised" flags, the fixed parts of
 * an LU-parametrised 1x1 convolution) are not averaged: the averaged model takes the trained model's.
 *
 * <p>The update is a deterministic function of the parameters and t, so a resumed run (which restores the averages
 * from the checkpoint, {@code ema.NAME} tensors) continues bit for bit, and the ranks of a data-parallel group, whose
 * parameters are identical after every step, hold identical averages.
 */
public final class WeightAverage {
    /** The prefix of the averaged parameters in a checkpoint. */
    public static final String PREFIX = "ema.";

    private final double decay;
    private final MultiScaleFlow source;
    private final MultiScaleFlow averaged;
    private final List<Tensor> from = new ArrayList<>();
    private final List<Tensor> to = new ArrayList<>();

    /**
     * An average of {@code source}'s parameters, starting at their current values; built on {@code device} in the
     * source's precision. Building the second model draws no numbers from the global generator (its state is put
     * back), so a run with the average trains exactly as one without.
     */
    public WeightAverage(MultiScaleFlow source, double decay, String device) {
        if (!(decay > 0 && decay < 1)) {
            throw new IllegalArgumentException("train.ema must be a decay in (0, 1), e.g. 0.999, got " + decay);
        }
        this.decay = decay;
        this.source = source;
        var generator = torch.getDefaultCPUGenerator();
        Tensor state = generator.get_state();
        try {
            averaged = new MultiScaleFlow(source.config(), Init.float32(device));
        } finally {
            generator.set_state(state);
        }
        averaged.precision(source.precision());
        averaged.train(false);
        Map<String, Tensor> mine = averaged.namedParameters();
        for (var e : source.namedParameters().entrySet()) {
            from.add(e.getValue());
            to.add(mine.get(e.getKey()));
        }
        for (Tensor p : to) p.requires_grad_(false);
        reset();
    }

    public double decay() {
        return decay;
    }

    /** The decay applied at the {@code t}-th update (1-based): {@code min(decay, (1 + t) / (10 + t))}. */
    public double decayAt(long t) {
        return Math.min(decay, (1.0 + t) / (10.0 + t));
    }

    /** Starts the average afresh at the source's current parameters. */
    public void reset() {
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (int i = 0; i < to.size(); i++) to.get(i).copy_(from.get(i));
        }
    }

    /** Folds the source's parameters into the average after the {@code t}-th applied optimiser step (t >= 1). */
    public void update(long t) {
        double w = 1 - decayAt(t);
        try (NoGradGuard g = new NoGradGuard(); PointerScope scope = new PointerScope()) {
            for (int i = 0; i < to.size(); i++) to.get(i).lerp_(from.get(i), s(w));
        }
    }

    /**
     * The averaged model, in evaluation mode, with the source's buffers: evaluate and sample it like the trained
     * model. The same object on every call.
     */
    public MultiScaleFlow model() {
        // loadStateDict, not a copy of the buffers: it also refreshes the Java-side mirrors of buffers (ActNorm's
        // "initialised" flag), and an LU 1x1 convolution's fixed permutation is a buffer drawn at construction
        Map<String, Tensor> merged = new LinkedHashMap<>(source.stateDict());
        merged.putAll(averaged.namedParameters());
        averaged.loadStateDict(merged);
        averaged.precision(source.precision());
        return averaged;
    }

    /** The averaged parameters by checkpoint name ({@code ema.NAME}), the live tensors. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        averaged.namedParameters().forEach((k, t) -> out.put(PREFIX + k, t));
        return out;
    }

    /** Whether {@code tensors} (a checkpoint's) hold an average of every parameter of {@code model}. */
    public static boolean present(Map<String, Tensor> tensors, MultiScaleFlow model) {
        for (String k : model.namedParameters().keySet()) if (!tensors.containsKey(PREFIX + k)) return false;
        return true;
    }

    /** Restores the averages from a checkpoint's tensors; false (nothing changed) when it holds none. */
    public boolean load(Map<String, Tensor> tensors) {
        if (!present(tensors, averaged)) return false;
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : averaged.namedParameters().entrySet()) e.getValue().copy_(tensors.get(PREFIX + e.getKey()));
        }
        return true;
    }
}
