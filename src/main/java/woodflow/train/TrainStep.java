package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.NumericalException;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;

/**
 * One training iteration, shared by the trainer and the benchmarks: fresh uniform dequantisation seeded by
 * (seed, iteration), the mean bits per dimension as the loss, backward (standard, or through inverses with
 * {@link InvertibleBackprop} when {@code train.backprop} is {@code invertible}), optional
 * gradient-norm clipping, and an Adam update. A step whose loss or gradient norm is not finite is not applied.
 */
public final class TrainStep {
    /** Wall-clock seconds of the parts of the last step. */
    public record Timing(double forward, double backward, double update) {}

    private final MultiScaleFlow model;
    private final Adam adam;
    private final TrainConfig config;
    private final int nBits;
    private final org.bytedeco.pytorch.Tensor device;
    private final InvertibleBackprop invertible;
    private Timing last = new Timing(0, 0, 0);
    private java.util.function.LongPredicate nanInput = it -> false;
    private java.util.function.LongPredicate nanGradient = it -> false;

    public TrainStep(MultiScaleFlow model, Adam adam, TrainConfig config, int nBits) {
        this.model = model;
        this.adam = adam;
        this.config = config;
        this.nBits = nBits;
        this.device = model.parameters().get(0);
        this.invertible = config.backprop().equals("invertible") ? new InvertibleBackprop(model) : null;
        if (invertible != null && config.driftCheck() > 0) {
            invertible.withDriftCheck(config.driftCheck(), d -> System.err.printf(java.util.Locale.ROOT,
                    "backprop: level %d reconstructed with drift %.3g > %.3g; recomputed it from stored "
                            + "activations%n", d.level(), d.maxAbsDifference(), d.tolerance()));
        }
    }

    /** Test hook: poison the input (or the gradient) with NaN at the iterations the predicates accept. */
    void injectFaults(java.util.function.LongPredicate input, java.util.function.LongPredicate gradient) {
        nanInput = input;
        nanGradient = gradient;
    }

    public Timing lastTiming() {
        return last;
    }

    /** The dequantised batch of iteration {@code it}: noise drawn from a generator seeded by (seed, it). */
    public Tensor dequantize(Tensor uint8, long it) {
        torch.manual_seed(config.seed() * 1_000_003L + it + 1);
        return Quantization.dequantize(Devices.like(uint8, device), nBits);
    }

    /**
     * Runs iteration {@code it} on a (B, C, H, W) uint8 batch with learning rate {@code lr}. Returns the batch's
     * mean bpd, or NaN when the loss or the gradient was not finite (the update is then skipped).
     */
    public double run(Tensor uint8, long it, double lr) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = dequantize(uint8, it);
            if (nanInput.test(it)) x = x.mul(woodflow.core.Tensors.s(Double.NaN));
            return step(x, it, lr);
        }
    }

    /**
     * The step on an already dequantised (B, C, H, W) batch in [-0.5, 0.5): what {@link #run} does after drawing
     * the noise. Tests drive it with the inputs of a reference implementation's trace.
     */
    public double runDequantized(Tensor x, double lr) {
        return step(x, -1, lr);
    }

    private double step(Tensor x, long it, double lr) {
        try (PointerScope scope = new PointerScope()) {
            adam.zeroGrad();
            long t0 = System.nanoTime(), t1, t2;
            double loss;
            try {
                if (invertible != null) {
                    // forward and backward together, one step's activations at a time
                    loss = invertible.backward(x, Quantization.bins(nBits)).loss();
                    t1 = System.nanoTime();
                    if (!Double.isFinite(loss)) return fail(t0, t1);
                } else {
                    Tensor l = model.bitsPerDim(x, Quantization.bins(nBits)).mean();
                    loss = l.item_double();
                    t1 = System.nanoTime();
                    if (!Double.isFinite(loss)) return fail(t0, t1);
                    l.backward();
                }
                if (nanGradient.test(it)) model.parameters().get(0).grad().fill_(woodflow.core.Tensors.s(Double.NaN));
            } catch (NumericalException e) {
                return fail(t0, System.nanoTime());
            }
            double norm = adam.gradNorm();
            t2 = System.nanoTime();
            if (!Double.isFinite(norm)) return fail(t0, t1);
            if (config.clip() > 0 && norm > config.clip()) adam.scaleGrads(config.clip() / norm);
            adam.update(lr);
            long t3 = System.nanoTime();
            last = new Timing((t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
            return loss;
        }
    }

    private double fail(long t0, long t1) {
        adam.zeroGrad();
        last = new Timing((t1 - t0) / 1e9, 0, 0);
        return Double.NaN;
    }
}
