package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.InverseRecompute;
import woodflow.core.Tensors;
import woodflow.core.Transform;
import woodflow.model.FlowStep;
import woodflow.model.MultiScaleFlow;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static woodflow.core.Tensors.s;

/**
 * The gradient of the mean bits per dimension of a {@link MultiScaleFlow} in memory that does not grow with depth:
 * backpropagation through inverses, as in reversible residual networks (Gomez, Ren, Urtasun &amp; Grosse, 2017).
 * Every layer of the flow is a bijection, so a step's input can be rebuilt from its output instead of being kept.
 *
 * <pre>
 *   loss      L = mean_b bpd_b,   bpd_b = -(sum_l log N(eps_l,b; 0, I) + sum_i ld_i,b - D ln n_bins) / (D ln 2)
 *   dL/d ld_i,b = c = -1 / (B D ln 2)        for every step i (steps, splits, top prior) and every sample b
 *   dL/d eps_l  = -c eps_l                   through log N
 *   step i, y = f_i(x) with log-det ld, upstream gradient g_y = dL/dy:
 *     x   = f_i^-1(y)                                          no graph
 *     phi = sum(f_i(x').out * g_y) + c * sum(f_i(x').ld)       x' = x detached, requiring grad
 *     phi.backward()  adds dL/dtheta_i to every parameter's grad, and x'.grad = dL/dx is g_y of step i - 1
 * </pre>
 * The forward pass runs without a graph and keeps only each level's output z_l (the input of its split or of the
 * top prior, which holds the split latents): about 2D numbers per sample. The backward pass walks the levels from
 * last to first; the output of a level is exact (it is stored), and the K steps of the level are walked back from
 * it one at a time, so at any moment at most one step's graph (with its conditioner's activations) is alive. Squeeze
 * is a reshape: its gradient is the inverse reshape. The split and the top prior are steps like the others; the loss
 * reaches their outputs through log N. Cost: one forward without graph, then per layer one inverse, one forward with
 * graph and its backward, against the standard path's forward with graph and backward. A coupling
 * ({@link InverseRecompute}) rebuilds its input and recomputes its forward with a single evaluation of its
 * conditioner, so the extra work is about one forward pass: some 1.3x the time of
 * {@code bitsPerDim(x).mean().backward()} when the backward costs twice the forward.
 *
 * <p><b>Drift.</b> A rebuilt input differs from the true one by rounding, amplified by every inverted step whose
 * inverse is ill-conditioned (an affine scale near 0, a nearly singular Woodbury factor); it grows with depth only
 * within a level, since every level restarts from its exact stored output. The exact input of every level is at hand
 * without keeping anything more (the squeezed image for level 0, the squeezed first half of z_{l-1} otherwise), so
 * every call measures each level's drift, max |rebuilt - exact|, in {@link #lastDrift()}; unchecked, after the level
 * was walked (free, too late to change its gradients). With {@link #withDriftCheck(double, DriftListener)} each level
 * is first inverted without graph and its rebuilt input compared with the exact one; over the tolerance, the level
 * falls back to exact activations: its K step inputs are recomputed forward from the exact level input (K tensors of
 * the level's size, no graph), the listener is told and the counter grows. The check costs K more inverses per level
 * (about one more forward pass without graph).
 *
 * <p><b>ActNorm.</b> ActNorm initialises itself from the first batch it sees, and an inverse through an uninitialised
 * ActNorm would be meaningless. The forward pass here is the model's ordinary forward (the same layers in the same
 * order, only without graph and one step at a time), and it runs in full before any inverse: so on the first batch
 * it initialises every ActNorm, in the steps and in the conditioners, from exactly the activations the standard path
 * would have used, and the gradients then equal the standard path's. No separate initialisation pass is needed, and
 * none would be cheaper (a whole-model forward in one scope would hold every step's activations at once).
 *
 * <pre>
 *   InvertibleBackprop ib = new InvertibleBackprop(model);          // once; optionally .withDriftCheck(1e-3, log)
 *   every batch:  zero each p.grad();  Result r = ib.backward(x, nBins);  optimiser step;  r.loss() = mean bpd
 *   evaluation:   ib.evaluate(x, nBins)                               // no gradient, memory of one step
 * </pre>
 * Parameters' gradients are accumulated into {@code p.grad()} (like {@code backward()}); zero them before the
 * call. A class-conditional model runs for the classes set around the call ({@code model.conditionedOn}); with a
 * class-prediction head its weighted bits join the loss at the top level's output, as in
 * {@link MultiScaleFlow#objective} (the returned loss stays the bits per dimension). The image's own gradient is not produced. Mixed precision works unchanged: layers run their conditioners
 * through {@link woodflow.core.Precision#conditioner} in the forward, the inverse and the recomputation alike.
 */
public final class InvertibleBackprop {
    /** The mean bits per dimension of the batch and the per-sample values, shape (B), without graph. */
    public record Result(double loss, Tensor bitsPerDim) {}

    /** One level whose rebuilt input differed from the exact one by more than the tolerance. */
    public record Drift(int level, double maxAbsDifference, double tolerance) {}

    /** Told about every level that fell back to exact activations. */
    @FunctionalInterface
    public interface DriftListener {
        void fellBack(Drift drift);
    }

    private final MultiScaleFlow model;
    private double tolerance = Double.NaN;
    private DriftListener listener = d -> {};
    private long fallbacks;
    private final double[] lastDrift;

    public InvertibleBackprop(MultiScaleFlow model) {
        this.model = model;
        this.lastDrift = new double[model.levels().size()];
        Arrays.fill(lastDrift, Double.NaN);
    }

    /**
     * Before walking a level back, checks its rebuilt input against the exact one and falls back to exact activations
     * when the largest absolute difference exceeds {@code tolerance} (e.g. 1e-3 in float32), telling
     * {@code listener} (may be null). Costs about one more forward pass without graph per call.
     */
    public InvertibleBackprop withDriftCheck(double tolerance, DriftListener listener) {
        if (!(tolerance >= 0)) {
            throw new IllegalArgumentException("the drift tolerance must be a number >= 0 (e.g. 1e-3), got "
                    + tolerance);
        }
        this.tolerance = tolerance;
        this.listener = listener == null ? d -> {} : listener;
        return this;
    }

    /** How many level passes fell back to exact activations since this object was made. */
    public long fallbacks() {
        return fallbacks;
    }

    /**
     * The drift of every level in the last call: max |rebuilt - exact| over the level's input. Without the check it
     * is measured after the level was walked back (free, but too late to change its gradients): a trainer can watch
     * it and turn the check on when it grows.
     */
    public double[] lastDrift() {
        return lastDrift.clone();
    }

    /**
     * The standard path, for comparison: {@code loss = model.bitsPerDim(x, nBins).mean(); loss.backward()}, which
     * keeps every step's activations.
     */
    public static Result standard(MultiScaleFlow model, Tensor x, int nBins) {
        Tensor bpd = model.bitsPerDim(x, nBins);
        Tensor loss = bpd.mean();
        loss.backward();
        return new Result(loss.item_double(), bpd.detach());
    }

    /**
     * Mean and per-sample bits per dimension without any gradient, one step at a time (so in the memory of one
     * step without graph, whatever the depth): for evaluating a test set. Like any forward, it initialises ActNorm.
     */
    public Result evaluate(Tensor x, int nBins) {
        check(x, nBins);
        Tensor bpd = Tensors.scoped(() -> MultiScaleFlow.bitsPerDim(x,
                forward(x, new Tensor[model.levels().size()], PointerScope.getInnerScope()), nBins));
        return new Result(bpd.mean().item_double(), bpd);
    }

    private void check(Tensor x, int nBins) {
        if (nBins < 1) throw new IllegalArgumentException("n_bins must be at least 1 (2^n_bits), got " + nBins);
        model.checkInput(x);
    }

    /**
     * Mean bits per dimension of the dequantised batch {@code x} (values in [-0.5, 0.5), {@code nBins} levels),
     * with the gradient of that mean accumulated into every parameter's {@code grad()}.
     */
    public Result backward(Tensor x, int nBins) {
        check(x, nBins);
        Arrays.fill(lastDrift, Double.NaN);
        List<MultiScaleFlow.Level> levels = model.levels();
        Tensor[] z = new Tensor[levels.size()];
        double dims = (double) x.size(1) * x.size(2) * x.size(3);
        double c = -1.0 / (x.size(0) * dims * Math.log(2));
        // z (the levels' outputs) lives in this scope, until the walk back is done.
        Tensor bpd = Tensors.scoped(() -> {
            Tensor perSample = MultiScaleFlow.bitsPerDim(x, forward(x, z, PointerScope.getInnerScope()), nBins);
            Tensor g = null;
            try {
                for (int l = levels.size() - 1; l >= 0; l--) {
                    Tensor next = null;
                    try (PointerScope level = new PointerScope()) {
                        Tensor gz = endOfLevel(levels.get(l), z[l], g, c);
                        Tensor gIn = walkLevel(l, x, z, gz, c);
                        if (l > 0) next = Tensors.keep(levels.get(l).unsqueeze(gIn));
                    }
                    Tensors.release(g);
                    g = next;
                }
            } finally {
                Tensors.release(g);
            }
            return perSample;
        });
        return new Result(bpd.mean().item_double(), bpd);
    }

    /**
     * The forward pass without graph, one step at a time: stores each level's output in {@code z} (owned by
     * {@code work}) and returns log p(x) per sample.
     */
    private Tensor forward(Tensor x, Tensor[] z, PointerScope work) {
        List<MultiScaleFlow.Level> levels = model.levels();
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor logP = x.new_zeros(x.size(0));
            for (int l = 0; l < levels.size(); l++) {
                MultiScaleFlow.Level level = levels.get(l);
                Tensor input;
                try (PointerScope scope = new PointerScope()) {
                    input = Tensors.keep(levelInput(x, z, l));
                }
                Tensor out = level.stepsForward(input, logP::add_);
                work.attach(out);
                Tensors.release(out);
                z[l] = out;
                try (PointerScope scope = new PointerScope()) {
                    MultiScaleFlow.Level.Output end = level.end(out);
                    logP.add_(end.logDets().get(0)).add_(MultiScaleFlow.standardNormalLogProb(end.latent()));
                }
            }
            return logP;
        }
    }

    /**
     * Backward through the split (or the top prior) of a level: the gradient of the loss with respect to the level's
     * output z, given {@code g}, the gradient with respect to the half of z that goes on (null for the last level).
     * The result belongs to the caller's scope.
     */
    private Tensor endOfLevel(MultiScaleFlow.Level level, Tensor z, Tensor g, double c) {
        return Tensors.scoped(() -> {
            Tensor zr = z.detach().requires_grad_(true);
            MultiScaleFlow.Level.Output end = level.end(zr);
            Tensor phi = MultiScaleFlow.standardNormalLogProb(end.latent()).sum().add(end.logDets().get(0).sum())
                    .mul(s(c));
            if (g != null) phi = phi.add(end.carried().mul(g).sum());
            // the top level's output also predicts the class (class_loss_weight): its bits join the loss, weighted,
            // averaged over the batch
            Tensor classBits = g == null ? model.classBits(zr) : null;
            if (classBits != null) {
                phi = phi.add(classBits.sum().mul(s(model.config().classLossWeight() / z.size(0))));
            }
            phi.backward();
            // grad() is a reference into zr's autograd state, freed with zr: detach() makes an owning handle.
            return zr.grad().detach();
        });
    }

    /** The exact input of level l's first step: the squeezed image, or the squeezed first half of z_{l-1}. */
    private Tensor levelInput(Tensor x, Tensor[] z, int l) {
        List<MultiScaleFlow.Level> levels = model.levels();
        return levels.get(l).squeeze(l == 0 ? x : levels.get(l - 1).carried(z[l - 1]));
    }

    /**
     * Walks the steps of level l back from its exact output z_l, where the loss has gradient {@code gOut}; returns
     * the gradient with respect to the level's input, in the caller's scope.
     */
    private Tensor walkLevel(int l, Tensor image, Tensor[] z, Tensor gOut, double c) {
        PointerScope parent = PointerScope.getInnerScope();
        MultiScaleFlow.Level level = model.levels().get(l);
        List<FlowStep> steps = level.steps();
        Tensor[] inputs = null;
        boolean checked = !Double.isNaN(tolerance);
        if (checked) {
            Tensor input = levelInput(image, z, l);
            Tensor rebuilt = level.stepsInverse(z[l]);
            double drift = maxAbsDifference(rebuilt, input);
            Tensors.release(rebuilt);
            lastDrift[l] = drift;
            if (!(drift <= tolerance)) {
                fallbacks++;
                listener.fellBack(new Drift(l, drift, tolerance));
                inputs = level.stepInputs(input);
            }
        }
        Tensor y = Tensors.keep(z[l]);
        Tensor gy = Tensors.keep(gOut);
        try {
            for (int k = steps.size() - 1; k >= 0; k--) {
                FlowStep step = steps.get(k);
                // From exact stored inputs the step is recomputed whole; otherwise it is walked back layer by layer,
                // so that a coupling can rebuild its input and recompute its forward with one network evaluation.
                List<FlowLayer> layers = inputs != null ? List.of(step) : step.parts();
                for (int j = layers.size() - 1; j >= 0; j--) {
                    Tensor[] xg = backThrough(layers.get(j), inputs != null ? inputs[k] : null, y, gy, c);
                    Tensors.release(y);
                    Tensors.release(gy);
                    y = xg[0];
                    gy = xg[1];
                }
            }
            if (!checked) {
                // Unchecked, the drift is still measured, after the fact: y is now the rebuilt level input.
                try (PointerScope scope = new PointerScope()) {
                    lastDrift[l] = maxAbsDifference(y, levelInput(image, z, l));
                }
            }
            parent.attach(gy);
            return gy;
        } finally {
            Tensors.release(y);
            Tensors.release(gy);
            if (inputs != null) for (Tensor t : inputs) Tensors.release(t);
        }
    }

    /**
     * One layer back: its input (given exactly, or rebuilt from its output {@code y}) and the loss's gradient with
     * respect to it, from the gradient {@code gy} at its output; adds the layer's parameter gradients. Both results
     * are kept (release them).
     */
    private static Tensor[] backThrough(Transform layer, Tensor exactInput, Tensor y, Tensor gy, double c) {
        try (PointerScope scope = new PointerScope()) {
            Tensor input;
            FlowResult r;
            Supplier<Tensor> inputGrad;
            if (exactInput == null && layer instanceof InverseRecompute ir) {
                InverseRecompute.Recomputed rc = ir.recompute(y);
                input = rc.input();
                r = rc.forward();
                inputGrad = rc::inputGrad;
            } else {
                if (exactInput != null) {
                    input = exactInput;
                } else {
                    try (NoGradGuard g = new NoGradGuard()) {
                        input = layer.inverse(y).out();
                    }
                }
                Tensor leaf = input.detach().requires_grad_(true);
                r = layer.forward(leaf);
                inputGrad = leaf::grad;
            }
            r.out().mul(gy).sum().add(r.logDet().sum().mul(s(c))).backward();
            return new Tensor[] {Tensors.keep(input.detach()), Tensors.keep(inputGrad.get().detach())};
        }
    }

    private static double maxAbsDifference(Tensor a, Tensor b) {
        try (PointerScope scope = new PointerScope()) {
            return a.sub(b).abs().max().item_double();
        }
    }
}
