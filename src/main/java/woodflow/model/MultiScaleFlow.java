package woodflow.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.core.Transform;
import woodflow.layers.ClassCondition;
import woodflow.layers.Split;
import woodflow.layers.Squeeze;
import woodflow.layers.TopPrior;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static woodflow.core.Tensors.s;

/**
 * Glow's multi-scale flow (Kingma &amp; Dhariwal, 2018), with any of woodflow's permutation layers and couplings:
 *
 * <pre>
 *   x (C, H, W)
 *   level 0:    squeeze -> (4C, H/2, W/2) -> K steps -> split --------------> eps_0 (2C, H/2, W/2)
 *   level 1:    squeeze -> (8C, H/4, W/4) -> K steps -> split --------------> eps_1 (4C, H/4, W/4)
 *   ...
 *   level L-1:  squeeze -> K steps -> top prior ----------------------------> eps_{L-1}
 *   step = ActNorm -> permutation (Woodbury, ME-Woodbury, 1x1, ...) -> coupling
 * </pre>
 * Every split and the top prior standardise their latents by their (learned) Gaussian priors, so all latents
 * {@code eps_l} are standard normal under the model and
 * {@code log p(x) = sum_l log N(eps_l; 0, I) + total log-det}. Encoding keeps every latent, so
 * {@code decode(encode(x)) = x} to float precision.
 *
 * <p>A class-conditional model ({@code model.conditional: class}) shifts the top prior and every split prior by a
 * learned embedding of the class (Glow's {@code ycond}; {@link woodflow.layers.ClassEmbedding}): it computes
 * {@code log p(x | y)}, and samples a chosen class. The classes are given for the duration of a call:
 * {@code try (var c = model.conditionedOn(labels)) { ... }}. With {@code class_loss_weight} > 0 the class is also
 * predicted from the top latent ({@link #objective}).
 */
public final class MultiScaleFlow extends Module {
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    /** The latents of a batch (eps_0 ... eps_{L-1}) and the total log-det of the map x -> latents, shape (B). */
    public record Encoding(List<Tensor> latents, Tensor logDet) {}

    /**
     * Squeeze, K steps and a split (the top prior for the last level); it owns its walk in both directions:
     * <pre>
     *   forward:  carried_{l-1} -> squeeze -> K steps -> z_l -> split -> (carried_l, eps_l)     (top prior: eps_l only)
     *   inverse:  (carried_l, eps_l) -> split^-1 -> z_l -> K steps^-1 -> unsqueeze -> carried_{l-1}
     * </pre>
     * where carried_{-1} is the image. Log-dets come as one tensor of shape (B) per layer, in the order the layers ran.
     */
    public static final class Level extends Module {
        private final List<FlowStep> steps = new ArrayList<>();
        private final Split split;
        private final Squeeze squeeze = new Squeeze();
        /** The model's top prior, which ends the last level (a child of the model, not of the level). */
        private final TopPrior top;

        /** What a level hands on: the part carried to the next level (null after the last), its latent eps_l. */
        public record Output(Tensor carried, Tensor latent, List<Tensor> logDets) {}

        /** What a level's inverse hands back: its input (the previous level's carried part, or the image). */
        public record Input(Tensor x, List<Tensor> logDets) {}

        /**
         * Level {@code l} of a model of {@code cfg}; the last level ends in {@code top}, the others in a split (whose
         * prior takes the classes of {@code condition}, null for an unconditional model).
         */
        Level(ModelConfig cfg, int l, Init init, TopPrior top, ClassCondition condition) {
            int[] s = cfg.levelShape(l);
            for (int k = 0; k < cfg.steps(); k++) {
                steps.add(child("step" + k, new FlowStep(cfg, l, s[0], s[1], s[2], init)));
            }
            boolean last = l == cfg.levels() - 1;
            split = last ? null : child("split", new Split(s[0], s[1], s[2], init, condition));
            this.top = last ? top : null;
        }

        public List<FlowStep> steps() {
            return steps;
        }

        /** The split of this level, or null for the last level. */
        public Split split() {
            return split;
        }

        /** The input of the first step: the squeezed part carried by the previous level (or the image). */
        public Tensor squeeze(Tensor carried) {
            return squeeze.forward(carried).out();
        }

        /** The inverse of {@link #squeeze}; a reshape, so it also carries a gradient back through the squeeze. */
        public Tensor unsqueeze(Tensor input) {
            return squeeze.inverse(input).out();
        }

        /** The half of the level's output z that goes on to the next level (the split passes it unchanged). */
        public Tensor carried(Tensor z) {
            return z.narrow(1, 0, z.size(1) / 2);
        }

        /** The end of the level from its output z: the split (or the top prior) with its one log-det. */
        public Output end(Tensor z) {
            if (split == null) {
                FlowResult r = top.forward(z);
                return new Output(null, r.out(), List.of(r.logDet()));
            }
            FlowResult r = split.forward(z);
            long half = z.size(1) / 2;
            return new Output(r.out().narrow(1, 0, half), r.out().narrow(1, half, half), List.of(r.logDet()));
        }

        /**
         * The K steps forward from the level's input (after the squeeze), one at a time, each in a scope of its own so
         * that only its output outlives it: the memory of one step whatever K. Each step's log-det is given to
         * {@code logDet} inside that scope. {@code input} must be kept ({@link Tensors#keep}); it is released once
         * the first step has run. Returns the steps' output z, kept (release it).
         */
        public Tensor stepsForward(Tensor input, Consumer<Tensor> logDet) {
            Tensor h = input;
            for (FlowStep step : steps) {
                Tensor next;
                try (PointerScope scope = new PointerScope()) {
                    FlowResult r = step.forward(h);
                    logDet.accept(r.logDet());
                    next = Tensors.keep(r.out());
                }
                Tensors.release(h);
                h = next;
            }
            return h;
        }

        /**
         * The level's input rebuilt from its steps' output z by their inverses, one at a time and without graph
         * (kept: release it). It differs from the true input by rounding, amplified by ill-conditioned inverses.
         */
        public Tensor stepsInverse(Tensor z) {
            Tensor y = Tensors.keep(z);
            for (int k = steps.size() - 1; k >= 0; k--) {
                Tensor x;
                try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                    x = Tensors.keep(steps.get(k).inverse(y).out());
                }
                Tensors.release(y);
                y = x;
            }
            return y;
        }

        /** Every step's input, computed forward from the level's exact input without graph (each kept: release). */
        public Tensor[] stepInputs(Tensor input) {
            Tensor[] inputs = new Tensor[steps.size()];
            Tensor h = Tensors.keep(input);
            for (int k = 0; k < steps.size(); k++) {
                inputs[k] = Tensors.keep(h);
                if (k == steps.size() - 1) break;
                Tensor next;
                try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                    next = Tensors.keep(steps.get(k).forward(h).out());
                }
                Tensors.release(h);
                h = next;
            }
            Tensors.release(h);
            return inputs;
        }

        /** The whole level forward, from the part carried by the previous level (or the image). */
        public Output forward(Tensor carried) {
            List<Tensor> logDets = new ArrayList<>();
            Tensor h = squeeze(carried);
            for (FlowStep step : steps) {
                FlowResult r = step.forward(h);
                h = r.out();
                logDets.add(r.logDet());
            }
            Output end = end(h);
            logDets.addAll(end.logDets());
            return new Output(end.carried(), end.latent(), logDets);
        }

        /** The exact inverse of {@link #forward}: {@code carried} is null for the last level. */
        public Input inverse(Tensor carried, Tensor latent) {
            List<Tensor> logDets = new ArrayList<>();
            FlowResult r = split == null ? top.inverse(latent) : split.inverse(Tensors.cat(1, carried, latent));
            Tensor h = r.out();
            logDets.add(r.logDet());
            for (int k = steps.size() - 1; k >= 0; k--) {
                r = steps.get(k).inverse(h);
                h = r.out();
                logDets.add(r.logDet());
            }
            return new Input(unsqueeze(h), logDets);
        }
    }

    private final ModelConfig config;
    private final List<Level> levels = new ArrayList<>();
    private final TopPrior top;
    /** The classes of the current call, shared by the priors; null for an unconditional model. */
    private final ClassCondition condition;
    private final ClassPredictor predictor;

    public MultiScaleFlow(ModelConfig config, Init init) {
        this.config = config.validate();
        if (config.classConditional() && config.classCount() < 2) {
            throw new IllegalArgumentException("model.conditional: class needs model.classes, the names of at least 2 "
                    + "classes (training fills them in from the data's labels)");
        }
        condition = config.classConditional() ? new ClassCondition(config.classes()) : null;
        // The initial values (random draws, scaled copies) are temporaries: parameters and buffers keep their own
        // copies, so a scope frees the rest now instead of whenever the garbage collector runs (for a 60 M
        // parameter preset that is half a gigabyte).
        try (PointerScope scope = new PointerScope()) {
            int[] s = config.levelShape(config.levels() - 1);
            // zeros (the class embedding too): no random draws
            TopPrior prior = new TopPrior(s[0], s[1], s[2], config.learnTop(), init, condition);
            for (int l = 0; l < config.levels(); l++) {
                levels.add(child("level" + l, new Level(config, l, init, prior, condition)));
            }
            top = child("top", prior); // after the levels: the order of the state and the parameters
            predictor = config.classLossWeight() > 0
                    ? child("classifier", new ClassPredictor(s[0], config.classCount(), init)) : null;
        }
    }

    /** Whether the priors are conditioned on the class ({@code model.conditional: class}). */
    public boolean classConditional() {
        return condition != null;
    }

    /** The class names of a class-conditional model, in label order (empty for any other). */
    public List<String> classes() {
        return condition == null ? List.of() : condition.names();
    }

    /**
     * Runs the model for the classes {@code labels} (one per sample, {@code 0 .. K-1}) until the returned scope
     * closes: every call inside computes {@code log p(x | y)} and samples class y.
     */
    public ClassCondition.Scope conditionedOn(int[] labels) {
        return conditionedOn(oneHot(labels));
    }

    /**
     * For a class-conditional model, the classes in turn (0, 1, ..., K-1, 0, ...) for a batch of {@code batch} until
     * the scope closes: what a benchmark or a check that has no labels runs; for any other model a scope that does
     * nothing.
     */
    public ClassCondition.Scope classesInTurn(long batch) {
        if (condition == null) return () -> {};
        int[] y = new int[(int) batch];
        for (int i = 0; i < y.length; i++) y[i] = i % condition.classes();
        return conditionedOn(y);
    }

    /** As above with {@code (B, K)} label weights: one-hot rows, or soft labels between classes. */
    public ClassCondition.Scope conditionedOn(Tensor labels) {
        if (condition == null) {
            throw new IllegalArgumentException("this model is not class-conditional (model.conditional is none): it "
                    + "takes no classes");
        }
        return condition.set(labels);
    }

    /** One-hot rows {@code (B, K)} of {@code labels}, in the parameters' dtype and on their device. */
    public Tensor oneHot(int[] labels) {
        int k = classes().size();
        double[] rows = new double[labels.length * k];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("class label " + labels[i] + " is not one of the model's " + k
                        + " classes");
            }
            rows[i * k + labels[i]] = 1;
        }
        Tensor like = anyParameter();
        return Tensors.fromDoubles(rows, labels.length, k).to(like.device(), Tensors.dtype(like));
    }

    /**
     * The training objective per sample: the bits per dimension, and the loss trained on, which adds the
     * class-prediction bits times {@code class_loss_weight} when the model has that head (else the loss is the bpd).
     */
    public record Objective(Tensor bitsPerDim, Tensor loss) {}

    /** {@link Objective} of dequantised images {@code x} (the classes set by {@link #conditionedOn}). */
    public Objective objective(Tensor x, int nBins) {
        if (predictor == null) {
            Tensor bpd = bitsPerDim(x, nBins);
            return new Objective(bpd, bpd);
        }
        Encoding e = encode(x);
        Tensor bpd = bitsPerDim(x, logProb(e), nBins);
        // the top level's output z, rebuilt exactly from its standardised latent
        Tensor zTop = top.inverse(e.latents().get(e.latents().size() - 1)).out();
        return new Objective(bpd, bpd.add(classBits(zTop).mul(s(config.classLossWeight()))));
    }

    /**
     * The class-prediction bits per sample for the current classes from the top level's output z (null when the
     * model has no class-prediction head).
     */
    public Tensor classBits(Tensor zTop) {
        return predictor == null ? null : predictor.bits(zTop, condition.labels());
    }

    /** The class's logits predicted from the top level's output z ({@code class_loss_weight} > 0 only, else null). */
    public Tensor classLogits(Tensor zTop) {
        return predictor == null ? null : predictor.logits(zTop);
    }

    public ModelConfig config() {
        return config;
    }

    public List<Level> levels() {
        return levels;
    }

    public TopPrior top() {
        return top;
    }

    /** Shapes (without batch) of eps_0 ... eps_{L-1}. */
    public List<long[]> latentShapes() {
        List<long[]> out = new ArrayList<>();
        for (int l = 0; l < config.levels(); l++) {
            int[] s = config.levelShape(l);
            long c = l < config.levels() - 1 ? s[0] / 2 : s[0];
            out.add(new long[] {c, s[1], s[2]});
        }
        return out;
    }

    /** Fails unless {@code x} is a batch of images of the model's shape (B, C, H, W). */
    public void checkInput(Tensor x) {
        if (x.dim() != 4 || x.size(1) != config.channels() || x.size(2) != config.height()
                || x.size(3) != config.width()) {
            throw new IllegalArgumentException("the model takes images of shape (B, " + config.channels() + ", "
                    + config.height() + ", " + config.width() + "), got " + Tensors.shapeString(x));
        }
    }

    /** Data to latents: every level's latent and the total log-det. */
    public Encoding encode(Tensor x) {
        checkInput(x);
        List<Tensor> latents = new ArrayList<>();
        // every layer's log-det, summed once at the end: one stack and one sum instead of an add per layer
        List<Tensor> logDets = new ArrayList<>();
        Tensor h = x;
        for (Level level : levels) {
            Level.Output o = level.forward(h);
            latents.add(o.latent());
            logDets.addAll(o.logDets());
            h = o.carried();
        }
        return new Encoding(latents, torch.stack(new org.bytedeco.pytorch.TensorVector(logDets.toArray(new Tensor[0])))
                .sum(0));
    }

    /** Latents to data, the exact inverse of {@link #encode}. */
    public FlowResult decodeWithLogDet(List<Tensor> latents) {
        if (latents.size() != levels.size()) {
            throw new IllegalArgumentException("decode needs " + levels.size() + " latents, got " + latents.size());
        }
        Tensor h = null;
        Tensor logDet = null;
        for (int l = levels.size() - 1; l >= 0; l--) {
            Level.Input in = levels.get(l).inverse(h, latents.get(l));
            h = in.x();
            for (Tensor t : in.logDets()) logDet = logDet == null ? t : logDet.add(t);
        }
        return new FlowResult(h, logDet);
    }

    public Tensor decode(List<Tensor> latents) {
        return decodeWithLogDet(latents).out();
    }

    /** log N(eps; 0, I) summed per sample. */
    public static Tensor standardNormalLogProb(Tensor eps) {
        return Tensors.sumPerSample(eps.pow(s(2)).add(s(LOG_2PI))).mul(s(-0.5));
    }

    /** log p(x) per sample, shape (B), for continuous (dequantised) x. */
    public Tensor logProb(Tensor x) {
        return logProb(encode(x));
    }

    private static Tensor logProb(Encoding e) {
        Tensor lp = e.logDet();
        for (Tensor z : e.latents()) lp = lp.add(standardNormalLogProb(z));
        return lp;
    }

    /**
     * Bits per dimension of dequantised images x in [-0.5, 0.5) with {@code nBins} levels (docs/FORMULAS.md):
     * {@code bpd = -(log p(x) - D ln(nBins)) / (D ln 2)}, per sample.
     */
    public Tensor bitsPerDim(Tensor x, int nBins) {
        return bitsPerDim(x, logProb(x), nBins);
    }

    /** The same from {@code logP}, the log-density of the dequantised images {@code x} per sample. */
    public static Tensor bitsPerDim(Tensor x, Tensor logP, int nBins) {
        double d = (double) x.size(1) * x.size(2) * x.size(3);
        return logP.sub(s(d * Math.log(nBins))).mul(s(-1.0 / (d * Math.log(2))));
    }

    /** Standard-normal latents scaled by the temperature, for {@code n} samples. */
    public List<Tensor> drawLatents(long n, double temperature, Tensor like) {
        List<Tensor> out = new ArrayList<>();
        for (long[] shape : latentShapes()) {
            long[] full = {n, shape[0], shape[1], shape[2]};
            out.add(torch.randn(full, Tensors.optionsLike(like)).mul(s(temperature)));
        }
        return out;
    }

    /**
     * Draws {@code n} images at temperature T: every latent is mean + exp(logs) * T * eps (docs/FORMULAS.md), as
     * continuous
     * values in about [-0.5, 0.5).
     */
    public Tensor sample(long n, double temperature) {
        Temperature.MODEL.check(temperature);
        Tensor like = anyParameter();
        try (NoGradGuard g = new NoGradGuard()) {
            return decode(drawLatents(n, temperature, like));
        }
    }

    private Tensor anyParameter() {
        var it = namedParameters().values().iterator();
        if (!it.hasNext()) throw new IllegalStateException("the model has no parameters");
        return it.next();
    }

    /** The model as one bijection from x to all its latents, flattened and concatenated per sample (for tests). */
    public Transform asTransform() {
        MultiScaleFlow self = this;
        return new Transform() {
            @Override
            public FlowResult forward(Tensor x) {
                Encoding e = self.encode(x);
                List<Tensor> flat = new ArrayList<>();
                for (Tensor z : e.latents()) flat.add(z.reshape(z.size(0), -1));
                return new FlowResult(Tensors.cat(flat, 1), e.logDet());
            }

            @Override
            public FlowResult inverse(Tensor y) {
                List<Tensor> latents = new ArrayList<>();
                long offset = 0;
                for (long[] s : latentShapes()) {
                    long n = s[0] * s[1] * s[2];
                    latents.add(y.narrow(1, offset, n).reshape(y.size(0), s[0], s[1], s[2]));
                    offset += n;
                }
                return self.decodeWithLogDet(latents);
            }
        };
    }
}
