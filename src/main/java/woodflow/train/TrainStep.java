package woodflow.train;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Devices;
import woodflow.core.Halves;
import woodflow.core.Init;
import woodflow.core.NumericalException;
import woodflow.data.Quantization;
import woodflow.model.Dequantizer;
import woodflow.model.MultiScaleFlow;
import woodflow.nn.ConvRouting;

/**
 * One training iteration, shared by the trainer and the benchmarks: fresh dequantisation noise seeded by
 * (seed, iteration) (uniform, or through the model's variational dequantiser inside the forward), the mean bits per
 * dimension as the loss, backward (standard, or through inverses with
 * {@link InvertibleBackprop} when {@code train.backprop} is {@code invertible}), optional
 * gradient-norm clipping, and an Adam update. A step whose loss or gradient norm is not finite is not applied.
 */
public final class TrainStep {
    /**
     * Wall-clock seconds of the parts of the last step: the forward to the loss, the backward (with the gradient norm
     * and any reference-path recompute), the data-parallel gradient sync (0 alone), the clipping and Adam update.
     * Through inverses the forward and backward interleave: their sum is {@code backward}, and {@code forward} is NaN.
     */
    public record Timing(double forward, double backward, double sync, double update) {}

    private final MultiScaleFlow model;
    private final Adam adam;
    private final TrainConfig config;
    private final int nBits;
    private final org.bytedeco.pytorch.Tensor device;
    private final InvertibleBackprop invertible;
    private Timing last = new Timing(0, 0, 0, 0);
    /** When the last standard forward had its loss (System.nanoTime); 0 through inverses. */
    private long forwardEnd;
    private java.util.function.LongPredicate nanInput = it -> false;
    private java.util.function.LongPredicate nanGradient = it -> false;
    private int shardIndex = 0;
    private int shardCount = 1;
    private GradientSync gradientSync;
    private java.util.function.Consumer<String> fastPathFault = line -> System.err.println("warning: " + line);
    /** Two batch halves on two threads ({@link Halves}), chosen on the first step; null for the whole batch. */
    private Halves halves;
    private boolean halvesChosen;

    /**
     * A new model of {@code run}, with its Adam and its training step: the one way a run is set up for training, used
     * by the trainer, the training benchmark, the doctor, the replay of a PyTorch trace and the import of the paper's
     * weights. The model is built from a generator seeded with {@code train.seed}, in float32 on {@code device}, and
     * runs in {@code train.precision}.
     */
    public static TrainStep of(RunConfig run, String device) {
        MultiScaleFlow model = newModel(run, device);
        TrainConfig tc = run.train();
        Adam adam = new Adam(model.namedParameters(), tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
        return new TrainStep(model, adam, tc, run.data().nBits());
    }

    /** A new model of {@code run} as {@link #of} builds it (seeded, float32 on {@code device}, its precision). */
    public static MultiScaleFlow newModel(RunConfig run, String device) {
        torch.manual_seed(run.train().seed());
        MultiScaleFlow model = Models.build(run, Init.float32(device)); // the flow, and its dequantiser
        model.precision(run.train().precision());
        return model;
    }

    public TrainStep(MultiScaleFlow model, Adam adam, TrainConfig config, int nBits) {
        this.model = model;
        this.adam = adam;
        this.config = config;
        this.nBits = nBits;
        this.device = model.parameters().get(0);
        this.invertible = config.backprop() == Backprop.INVERTIBLE ? new InvertibleBackprop(model) : null;
        if (invertible != null && config.driftCheck() > 0) {
            invertible.withDriftCheck(config.driftCheck(), d -> System.err.printf(java.util.Locale.ROOT,
                    "backprop: level %d reconstructed with drift %.3g > %.3g; recomputed it from stored "
                            + "activations%n", d.level(), d.maxAbsDifference(), d.tolerance()));
        }
    }

    public MultiScaleFlow model() {
        return model;
    }

    public Adam adam() {
        return adam;
    }

    /** Test hook: poison the input (or the gradient) with NaN at the iterations the predicates accept. */
    void injectFaults(java.util.function.LongPredicate input, java.util.function.LongPredicate gradient) {
        nanInput = input;
        nanGradient = gradient;
    }

    /** Where the one line goes that says the fast convolution path was found wrong during training. */
    public TrainStep onFastPathFault(java.util.function.Consumer<String> sink) {
        fastPathFault = sink;
        return this;
    }

    /**
     * Data parallelism: the batches given to {@link #run} are rows {@code [index b, (index + 1) b)} of a global batch
     * of {@code count b} images, and their noise is those rows of the global batch's noise.
     */
    public TrainStep shard(int index, int count) {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard " + index + " of " + count + " does not exist");
        }
        shardIndex = index;
        shardCount = count;
        return this;
    }

    /**
     * How a data-parallel group takes part in every step: {@link #begin} before the forward and backward (an
     * overlapping reducer arms its gradient hooks), {@link #pause} before a reference-path recomputation that the group
     * does not follow, {@link #finish} after, before the gradient norm, clipping and update.
     */
    public interface GradientSync {
        default void begin() {}

        default void pause() {}

        /**
         * Given this process's loss (NaN when it or the gradient is not finite), makes the parameters' gradients
         * those of the whole group and returns the group's loss (NaN to skip the step everywhere).
         *
         * @param recomputed this process's gradient was recomputed after {@link #pause}
         */
        double finish(double loss, boolean recomputed);

        /** A group whose gradient all-reduces start during the backward, from {@code reducer}'s hooks. */
        static GradientSync overlapping(woodflow.distributed.GradientReducer reducer) {
            return new GradientSync() {
                @Override
                public void begin() {
                    reducer.begin();
                }

                @Override
                public void pause() {
                    reducer.pause();
                }

                @Override
                public double finish(double loss, boolean recomputed) {
                    return reducer.finish(loss, recomputed);
                }
            };
        }

        /** A group that averages {@code params}' gradients after each backward. */
        static GradientSync afterBackward(woodflow.distributed.DistContext group, java.util.List<Tensor> params) {
            return (loss, recomputed) -> group.averageGradients(params, loss);
        }
    }

    /** Data parallelism: see {@link GradientSync}. */
    public TrainStep onGradients(GradientSync sync) {
        gradientSync = sync;
        return this;
    }

    public Timing lastTiming() {
        return last;
    }

    /**
     * A batch on its way to the loss: the centred images {@code c = x_b / n_bins - 0.5} and the base noise of their
     * dequantisation (dequantised inside the forward, where a variational dequantiser's graph belongs), or a batch
     * dequantised already ({@code x}, uniform noise).
     */
    private record Batch(Tensor centred, Tensor noise, Tensor x) {
        Batch narrow(long from, long rows) {
            return x != null ? new Batch(null, null, x.narrow(0, from, rows))
                    : new Batch(centred.narrow(0, from, rows), noise.narrow(0, from, rows), null);
        }

        long rows() {
            return x != null ? x.size(0) : centred.size(0);
        }
    }

    /**
     * The batch of iteration {@code it}: the noise is drawn from a generator seeded by (seed, it), for the whole
     * global batch of a data-parallel group, whose rows of it this process takes (uniform noise: the numbers
     * {@code Quantization.dequantize} and {@code dequantizeRows} always drew).
     */
    private Batch batch(Tensor uint8, long it) {
        Tensor centred = Quantization.centred(Devices.like(uint8, device), nBits);
        if (woodflow.core.Tensors.dtype(device) != woodflow.core.Tensors.dtype(centred)) {
            centred = centred.to(woodflow.core.Tensors.dtype(device)); // a float64 model (tests)
        }
        torch.manual_seed(config.seed() * 1_000_003L + it + 1);
        long[] shape = woodflow.core.Tensors.shape(centred);
        long rows = shape[0];
        shape[0] = rows * shardCount;
        Tensor noise = model.dequantizer().drawNoise(shape, centred);
        if (shardCount > 1) noise = noise.narrow(0, rows * shardIndex, rows);
        return new Batch(centred, noise, null);
    }

    /**
     * The dequantised batch of iteration {@code it} (noise drawn from a generator seeded by (seed, it)), through the
     * model's dequantiser, with a graph unless the caller holds a {@code NoGradGuard}.
     */
    public Tensor dequantize(Tensor uint8, long it) {
        Batch b = batch(uint8, it);
        return model.dequantizer().dequantize(b.centred(), b.noise(), Quantization.bins(nBits)).x();
    }

    /**
     * Runs iteration {@code it} on a (B, C, H, W) uint8 batch with learning rate {@code lr}. Returns the batch's
     * mean bpd, or NaN when the loss or the gradient was not finite (the update is then skipped).
     */
    public double run(Tensor uint8, long it, double lr) {
        return run(uint8, null, it, lr);
    }

    /**
     * As above for a class-conditional model, with each image's class ({@code labels}, this process's rows): the
     * loss is then {@code -log p(x | y)} in bits per dimension. Null labels for a class-conditional model (a
     * benchmark, the doctor) stand for the classes in turn, 0, 1, ..., K-1, 0, ...
     */
    public double run(Tensor uint8, int[] labels, long it, double lr) {
        try (PointerScope scope = new PointerScope()) {
            Batch b = batch(uint8, it);
            if (nanInput.test(it)) b = new Batch(b.centred().mul(woodflow.core.Tensors.s(Double.NaN)), b.noise(), null);
            return step(b, classes(labels, b.rows()), it, lr);
        }
    }

    /** The one-hot labels a conditional model runs for (null for any other model). */
    private Tensor classes(int[] labels, long batch) {
        if (!model.classConditional()) return null;
        int[] y = labels;
        if (y == null) {
            y = new int[(int) batch];
            for (int i = 0; i < y.length; i++) y[i] = i % model.classes().size();
        }
        if (y.length != batch) {
            throw new IllegalArgumentException(y.length + " class labels for a batch of " + batch + " images");
        }
        return model.oneHot(y);
    }

    /** {@code forwardBackward} for the classes {@code y} (none: unconditional). */
    private double forwardBackward(Batch x, Tensor y, boolean poisonGradient, boolean mayShard) {
        if (y == null) return forwardBackward(x, poisonGradient, mayShard);
        try (woodflow.layers.ClassCondition.Scope c = model.conditionedOn(y)) {
            return forwardBackward(x, poisonGradient, false);
        }
    }

    /**
     * The step on an already dequantised (B, C, H, W) batch in [-0.5, 0.5): what {@link #run} does after drawing
     * the noise, for a model with uniform dequantisation. Tests drive it with the inputs of a reference
     * implementation's trace.
     */
    public double runDequantized(Tensor x, double lr) {
        if (!model.dequantizer().isUniform()) {
            throw new IllegalStateException("a model with a variational dequantiser dequantises its batches itself");
        }
        return step(new Batch(null, null, x), classes(null, x.size(0)), -1, lr);
    }

    private double step(Batch x, Tensor y, long it, double lr) {
        // With the batch in halves the halves' threads have the cores: this thread's own parallel work (the gradient
        // norm, Adam) runs on one thread, as an intra-op team here would wait at every barrier for a core that is
        // busy (on a busy host, for a whole time slice of another process each time).
        int threads = torch.get_num_threads();
        boolean split = y == null && halvesUsable(x);
        if (split && threads > 1) torch.set_num_threads(1);
        try {
            return stepOn(x, y, it, lr);
        } finally {
            if (split && threads > 1) torch.set_num_threads(threads);
        }
    }

    /**
     * Whether a step of {@code x} runs as two halves: not through inverses, not in a data-parallel group (its hooks
     * count one backward per step), not for a class-conditional model (it holds one set of labels for the batch).
     */
    private boolean halvesUsable(Batch x) {
        return invertible == null && gradientSync == null && !model.classConditional() && x.rows() >= Halves.MIN_ROWS
                && halves() != null;
    }

    private double stepOn(Batch x, Tensor y, long it, double lr) {
        try (PointerScope scope = new PointerScope()) {
            adam.zeroGrad();
            long t0 = System.nanoTime();
            long fastBefore = ConvRouting.fastCalls();
            boolean poison = nanGradient.test(it); // asked once: a recompute must meet the same fault
            if (gradientSync != null) gradientSync.begin();
            forwardEnd = 0;
            double loss = forwardBackward(x, y, poison, true);
            long tf = forwardEnd;
            boolean recomputed = false;
            long t1 = System.nanoTime();
            double norm = Double.isFinite(loss) ? adam.gradNorm() : Double.NaN;
            if (!Double.isFinite(norm) && ConvRouting.fastCalls() > fastBefore) {
                // Was it the fast convolution path? Recompute the same step on the reference path: if that one is
                // finite, the fast path computed wrong numbers on this machine, and no later step should trust it.
                adam.zeroGrad();
                if (gradientSync != null) gradientSync.pause();
                recomputed = true;
                double again;
                try (ConvRouting.Scope ref = ConvRouting.referenceScope()) {
                    again = forwardBackward(x, y, poison, false);
                }
                double againNorm = Double.isFinite(again) ? adam.gradNorm() : Double.NaN;
                if (Double.isFinite(againNorm)) {
                    ConvRouting.routeAll();
                    fastPathFault.accept(String.format(java.util.Locale.ROOT, "iteration %d: the fast convolution "
                            + "path (oneDNN) gave a non-finite %s where the reference path did not; every convolution "
                            + "now takes the reference path (run `woodflow doctor` for details)", it,
                            Double.isFinite(loss) ? "gradient" : "loss"));
                    loss = again;
                    norm = againNorm;
                    t1 = System.nanoTime();
                }
            }
            if (gradientSync != null) {
                loss = gradientSync.finish(Double.isFinite(norm) ? loss : Double.NaN, recomputed);
                norm = Double.isFinite(loss) ? adam.gradNorm() : Double.NaN;
            }
            long t2 = System.nanoTime();
            double forward = tf == 0 || recomputed ? Double.NaN : (tf - t0) / 1e9;
            double backward = (t1 - (Double.isNaN(forward) ? t0 : tf)) / 1e9;
            if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                adam.zeroGrad();
                last = new Timing(forward, backward, (t2 - t1) / 1e9, 0);
                return Double.NaN;
            }
            if (config.clip() > 0 && norm > config.clip()) adam.scaleGrads(config.clip() / norm);
            adam.update(lr);
            long t3 = System.nanoTime();
            last = new Timing(forward, backward, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
            return loss;
        }
    }

    /**
     * Iteration {@code it}'s loss, with its gradient left in the parameters' {@code grad()} (zeroed first); no update,
     * no data-parallel averaging (a class-conditional model runs for the classes in turn). For tests that compare
     * gradients.
     */
    double lossAndGradient(Tensor uint8, long it) {
        try (PointerScope scope = new PointerScope()) {
            adam.zeroGrad();
            Batch b = batch(uint8, it);
            return forwardBackward(b, classes(null, b.rows()), false, false);
        }
    }

    /**
     * Forward and backward into the parameters' gradients; the loss, or NaN when it is not finite. With
     * {@code mayShard} a standard step may run as two batch halves on two threads ({@link Halves}), each dequantising
     * its own rows; the recomputations and checks on the reference path always run the whole batch on this thread
     * (the routing they force is this thread's).
     */
    private double forwardBackward(Batch batch, boolean poisonGradient, boolean mayShard) {
        double loss;
        int bins = Quantization.bins(nBits);
        try {
            if (mayShard && halvesUsable(batch)) {
                long b = batch.rows(), first = Halves.firstRows(b);
                Batch xa = batch.narrow(0, first), xb = batch.narrow(first, b - first);
                Half[] h = halves.run(() -> half(xa, b, bins), () -> half(xb, b, bins), Half[]::new);
                // in row order: the sum is the same whichever half finished first
                loss = h[0].loss() + h[1].loss();
                forwardEnd = Math.max(h[0].forwardEnd(), h[1].forwardEnd());
                if (!Double.isFinite(loss)) return Double.NaN;
                if (poisonGradient) model.parameters().get(0).grad().fill_(woodflow.core.Tensors.s(Double.NaN));
                return loss;
            }
            Dequantizer.Dequantized x = dequantized(batch, bins);
            if (invertible != null && x.logQ() != null) {
                loss = throughInverses(x, bins);
                if (!Double.isFinite(loss)) return Double.NaN;
            } else if (invertible != null) {
                // forward and backward together, one step's activations at a time
                loss = invertible.backward(x.x(), bins).loss();
                if (!Double.isFinite(loss)) return Double.NaN;
            } else {
                // the loss trained on: the bpd, plus the weighted class-prediction bits of a model with that head
                MultiScaleFlow.Objective o = model.objective(x, bins);
                Tensor l = o.loss().mean();
                double trained = l.item_double();
                loss = o.loss() == o.bitsPerDim() ? trained : o.bitsPerDim().mean().item_double();
                forwardEnd = System.nanoTime();
                if (!Double.isFinite(trained) || !Double.isFinite(loss)) return Double.NaN;
                l.backward();
            }
            if (poisonGradient) model.parameters().get(0).grad().fill_(woodflow.core.Tensors.s(Double.NaN));
        } catch (NumericalException e) {
            return Double.NaN;
        }
        return loss;
    }

    /** The batch through the model's dequantiser (a batch dequantised already passes as it is). */
    private Dequantizer.Dequantized dequantized(Batch batch, int bins) {
        return batch.x() != null ? new Dequantizer.Dequantized(batch.x(), null)
                : model.dequantizer().dequantize(batch.centred(), batch.noise(), bins);
    }

    /**
     * One half of a sharded step, on its own thread: its images dequantised, their bpd summed over the whole batch's
     * size {@code b} (the two halves' losses add up to the batch mean), and its backward when finite. A non-finite
     * half skips its backward; the step is then skipped as a whole.
     */
    private Half half(Batch rows, long b, int bins) {
        try {
            // the loss trained on (with a class-prediction head's bits where the model has one) and the bpd reported
            MultiScaleFlow.Objective o = model.objective(dequantized(rows, bins), bins);
            Tensor l = o.loss().sum().div(woodflow.core.Tensors.s(b));
            double trained = l.item_double();
            double loss = o.loss() == o.bitsPerDim() ? trained
                    : o.bitsPerDim().sum().item_double() / b;
            long end = System.nanoTime();
            if (!Double.isFinite(trained)) return new Half(Double.NaN, end);
            l.backward();
            return new Half(loss, end);
        } catch (NumericalException e) {
            return new Half(Double.NaN, System.nanoTime());
        }
    }

    /** One half's share of the loss (NaN when not finite) and when its forward ended. */
    private record Half(double loss, long forwardEnd) {}

    /** Test hook: the batch split to use ({@code null}: the whole batch on the calling thread). */
    TrainStep halves(Halves h) {
        halves = h;
        halvesChosen = true;
        return this;
    }

    /** Test hook: the parameters' gradients of a dequantised batch, as a step computes them; returns the loss. */
    double gradients(Tensor x) {
        adam.zeroGrad();
        return forwardBackward(new Batch(null, null, x), false, true);
    }

    /** The step's batch split, chosen once, the first time a step may use it. */
    private Halves halves() {
        if (!halvesChosen) {
            halves = Halves.forThisProcess();
            halvesChosen = true;
        }
        return halves;
    }

    /** How this step runs its batch, e.g. {@code two batch halves on two threads, 1 libtorch thread each}. */
    public String parallelism() {
        if (invertible != null || gradientSync != null || halves() == null) {
            return "the whole batch, " + torch.get_num_threads() + " libtorch thread"
                    + (torch.get_num_threads() == 1 ? "" : "s");
        }
        return halves.describe();
    }

    /**
     * Backpropagation through inverses with a variational dequantiser: the flow's part walks back through inverses
     * ({@link InvertibleBackprop}, which also hands back the gradient g at x~), the dequantiser's own graph is kept as
     * in a standard backward (a few small convolutions at half the image's resolution) and reached by the surrogate
     * {@code sum(x~ * g) + mean(log q) / (D ln 2)}, whose gradient is the loss's.
     * <pre>
     *   loss = mean_b [-(log p(x~_b) - D ln n_bins) / (D ln 2)] + mean_b [(log q_b - D ln n_bins) / (D ln 2)]
     * </pre>
     */
    private double throughInverses(Dequantizer.Dequantized x, int bins) {
        InvertibleBackprop.Result r = invertible.backward(x.x().detach(), bins, true);
        double dims = (double) x.x().size(1) * x.x().size(2) * x.x().size(3);
        double perBit = 1.0 / (dims * Math.log(2));
        Tensor logQ = x.logQ().mean();
        double loss = r.loss() + (logQ.item_double() - dims * Math.log(bins)) * perBit;
        if (!Double.isFinite(loss)) return Double.NaN;
        x.x().mul(r.inputGrad()).sum().add(logQ.mul(woodflow.core.Tensors.s(perBit))).backward();
        return loss;
    }

    /** The fast path's gradient of one batch against the reference path's: what {@link #compareWithReference} found. */
    public record PathComparison(double fastLoss, double referenceLoss, double relativeError, double tolerance,
                                 String problem) {
        public boolean agrees() {
            return problem.isEmpty();
        }
    }

    /** Relative L2 error of the whole gradient above which the fast path is not trusted, per precision. */
    private static double gradientTolerance(boolean mixed) {
        return mixed ? 0.1 : 2e-3;
    }

    /**
     * Computes iteration {@code it}'s loss and gradient twice, on the fast and on the reference convolution path,
     * and compares them; no parameter or optimiser state changes. The start-up self-check of a run.
     */
    public PathComparison compareWithReference(Tensor uint8, long it) {
        return compareWithReference(uint8, null, it);
    }

    /** As above, for a class-conditional model with the images' classes (null: the classes in turn). */
    public PathComparison compareWithReference(Tensor uint8, int[] labels, long it) {
        try (PointerScope scope = new PointerScope()) {
            Batch x = batch(uint8, it);
            Tensor y = classes(labels, x.rows());
            adam.zeroGrad();
            double fast = forwardBackward(x, y, false, false);
            List<Tensor> gFast = new ArrayList<>();
            for (Tensor p : model.parameters()) {
                Tensor g = p.grad();
                gFast.add(g.defined() ? g.clone() : null);
            }
            adam.zeroGrad();
            // The reference path keeps each convolution's unfolded input for its backward (9x the input of a 3x3
            // convolution): on config c's whole batch that was 750 MB above a training step's peak, the run's peak
            // memory. Its gradient is taken as the mean of equal chunks' gradients instead, each chunk's
            // activations freed before the next; a flow's images are independent, so only the summation order
            // changes.
            long rows = x.rows();
            int chunk = woodflow.nn.Conv.referenceChunk(rows);
            long chunks = rows / chunk;
            double ref = 0;
            try (ConvRouting.Scope r = ConvRouting.referenceScope()) {
                for (long r0 = 0; r0 < rows; r0 += chunk) {
                    try (PointerScope inner = new PointerScope()) {
                        ref += forwardBackward(x.narrow(r0, chunk), y == null ? null : y.narrow(0, r0, chunk),
                                false, false) / chunks;
                    }
                }
            }
            double tol = gradientTolerance(config.precision() == woodflow.core.Precision.BF16_MIXED);
            // parameter by parameter against the reference gradient where it lies (no flat copies of either)
            double diff2 = 0, ref2 = 0;
            boolean fastFinite = true, refFinite = true;
            List<Tensor> params = model.parameters();
            for (int i = 0; i < params.size(); i++) {
                try (PointerScope inner = new PointerScope()) {
                    Tensor p = params.get(i), g = p.grad();
                    Tensor gr = g.defined() ? g.div(woodflow.core.Tensors.s(chunks)) : torch.zeros_like(p);
                    Tensor gf = gFast.get(i) != null ? gFast.get(i) : torch.zeros_like(p);
                    fastFinite &= woodflow.core.Tensors.allFinite(gf);
                    refFinite &= woodflow.core.Tensors.allFinite(gr);
                    diff2 += Math.pow(gf.sub(gr).norm().item_double(), 2);
                    ref2 += Math.pow(gr.norm().item_double(), 2);
                }
            }
            adam.zeroGrad();
            if (!Double.isFinite(ref)) return new PathComparison(fast, ref, Double.NaN, tol, "");
            if (!Double.isFinite(fast)) return new PathComparison(fast, ref, Double.POSITIVE_INFINITY, tol,
                    "the fast path's loss is not finite");
            if (!fastFinite && refFinite) {
                return new PathComparison(fast, ref, Double.POSITIVE_INFINITY, tol,
                        "the fast path's gradient is not finite");
            }
            double den = Math.sqrt(ref2);
            double err = Math.sqrt(diff2) / (den > 0 ? den : 1);
            String problem = err > tol ? String.format(java.util.Locale.ROOT,
                    "the gradients differ by %.2g (relative L2; tolerance %.0e)", err, tol) : "";
            return new PathComparison(fast, ref, err, tol, problem);
        }
    }

}
