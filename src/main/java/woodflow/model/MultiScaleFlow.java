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
import woodflow.layers.Split;
import woodflow.layers.Squeeze;
import woodflow.layers.TopPrior;

import java.util.ArrayList;
import java.util.List;

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
 */
public final class MultiScaleFlow extends Module {
    private static final double LOG_2PI = Math.log(2 * Math.PI);

    /** The latents of a batch (eps_0 ... eps_{L-1}) and the total log-det of the map x -> latents, shape (B). */
    public record Encoding(List<Tensor> latents, Tensor logDet) {}

    /** Squeeze, K steps and (except for the last level) a split. */
    public static final class Level extends Module {
        private final List<FlowStep> steps = new ArrayList<>();
        private final Split split;

        Level(ModelConfig cfg, int l, Init init) {
            int[] s = cfg.levelShape(l);
            for (int k = 0; k < cfg.steps(); k++) {
                steps.add(child("step" + k, new FlowStep(cfg, l, s[0], s[1], s[2], init)));
            }
            split = l < cfg.levels() - 1 ? child("split", new Split(s[0], init)) : null;
        }

        public List<FlowStep> steps() {
            return steps;
        }

        /** The split of this level, or null for the last level. */
        public Split split() {
            return split;
        }
    }

    private final ModelConfig config;
    private final List<Level> levels = new ArrayList<>();
    private final TopPrior top;
    private final Squeeze squeeze = new Squeeze();

    public MultiScaleFlow(ModelConfig config, Init init) {
        this.config = config.validate();
        // The initial values (random draws, scaled copies) are temporaries: parameters and buffers keep their own
        // copies, so a scope frees the rest now instead of whenever the garbage collector runs (for a 60 M
        // parameter preset that is half a gigabyte).
        try (PointerScope scope = new PointerScope()) {
            for (int l = 0; l < config.levels(); l++) levels.add(child("level" + l, new Level(config, l, init)));
            int[] s = config.levelShape(config.levels() - 1);
            top = child("top", new TopPrior(s[0], s[1], s[2], config.learnTop(), init));
        }
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

    private void checkInput(Tensor x) {
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
            h = squeeze.forward(h).out();
            for (FlowStep step : level.steps) {
                FlowResult r = step.forward(h);
                h = r.out();
                logDets.add(r.logDet());
            }
            if (level.split != null) {
                FlowResult r = level.split.forward(h);
                logDets.add(r.logDet());
                long half = h.size(1) / 2;
                latents.add(r.out().narrow(1, half, half));
                h = r.out().narrow(1, 0, half);
            }
        }
        FlowResult r = top.forward(h);
        latents.add(r.out());
        logDets.add(r.logDet());
        return new Encoding(latents, torch.stack(new org.bytedeco.pytorch.TensorVector(logDets.toArray(new Tensor[0])))
                .sum(0));
    }

    /** Latents to data, the exact inverse of {@link #encode}. */
    public FlowResult decodeWithLogDet(List<Tensor> latents) {
        if (latents.size() != levels.size()) {
            throw new IllegalArgumentException("decode needs " + levels.size() + " latents, got " + latents.size());
        }
        FlowResult r = top.inverse(latents.get(levels.size() - 1));
        Tensor h = r.out();
        Tensor logDet = r.logDet();
        for (int l = levels.size() - 1; l >= 0; l--) {
            Level level = levels.get(l);
            if (level.split != null) {
                r = level.split.inverse(Tensors.cat(1, h, latents.get(l)));
                h = r.out();
                logDet = logDet.add(r.logDet());
            }
            for (int k = level.steps.size() - 1; k >= 0; k--) {
                r = level.steps.get(k).inverse(h);
                h = r.out();
                logDet = logDet.add(r.logDet());
            }
            h = squeeze.inverse(h).out();
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
        Encoding e = encode(x);
        Tensor lp = e.logDet();
        for (Tensor z : e.latents()) lp = lp.add(standardNormalLogProb(z));
        return lp;
    }

    /**
     * Bits per dimension of dequantised images x in [-0.5, 0.5) with {@code nBins} levels (SPEC §3):
     * {@code bpd = -(log p(x) - D ln(nBins)) / (D ln 2)}, per sample.
     */
    public Tensor bitsPerDim(Tensor x, int nBins) {
        double d = (double) x.size(1) * x.size(2) * x.size(3);
        return logProb(x).sub(s(d * Math.log(nBins))).mul(s(-1.0 / (d * Math.log(2))));
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
     * Draws {@code n} images at temperature T: every latent is mean + exp(logs) * T * eps (SPEC §3), as continuous
     * values in about [-0.5, 0.5).
     */
    public Tensor sample(long n, double temperature) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
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
