package woodflow.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.core.Transform;
import woodflow.layers.Squeeze;
import woodflow.nn.Conv;
import woodflow.nn.ZeroConv;

import java.util.ArrayList;
import java.util.List;

import static woodflow.core.Tensors.s;

/**
 * Variational dequantisation (Ho, Chen, Srinivas, Duan &amp; Abbeel, "Flow++", ICML 2019, section 3.1; DenseFlow,
 * Grcić, Grubišić &amp; Šegvić 2021, uses the same structure): the noise that makes an integer image continuous is
 * drawn from a small flow conditioned on the image, q(v | x), trained with the model, instead of U(0, 1/n_bins)^D.
 * The flow runs on the squeezed image (4C channels at half the resolution), split into two halves: the pixels on each
 * 2x2 block's diagonal and the two others (a checkerboard), which take turns conditioning each other.
 * <pre>
 *   c = x_b / n_bins - 0.5 (the centred image), e ~ N(0, I) of the image's shape (B, C, H, W)
 *   context   f = ReLU(conv3x3(ReLU(conv3x3(squeeze(c)))))                         once per batch, hidden channels
 *   start     [a, b] = halves(squeeze(e)) * exp(base_logs)        2C log-scales for both halves, starting at ln 1.6
 *   step k    the half that changes, z -> z exp(s) + t, with (s~, t) = ZeroConv3x3(ReLU(conv3x3([other half, f])))
 *             and s = 2 tanh(s~ / 2) (a scale in (e^-2, e^2)); a changes at odd k, b at even k
 *   end       h = unsqueeze([a, b]),  u = sigmoid(h),  v = u / n_bins,  x~ = c + v   (v in (0, 1/n_bins)^D)
 *   log q(v | x) = log N(e; 0, I) - log |det dv/de|
 *   log |det dv/de| = (HW/2) sum base_logs + sum_k sum s_k + sum (log sig(h) + log sig(-h)) - D ln n_bins
 * </pre>
 * The last two terms are the sigmoid's and the scaling's log-dets. With the output convolutions at zero, h = 1.6 e:
 * sigmoid(N(0, 1.6^2)) is close to uniform (its entropy is -0.015 nats per dimension against uniform's 0; -0.19 for
 * sigmoid(N(0, 1))), so training starts near the uniform figure. As a {@link Transform} ({@link #given}) it maps v
 * to e (data to latent, woodflow's forward) and e to v (its inverse), the direction {@link #dequantize} samples in.
 *
 * <p>Mixed precision: the context net and the coupling networks are conditioners (bf16 under autocast); the halves,
 * the affine updates, the sigmoid and every log-det stay in the parameters' precision.
 */
public final class VariationalDequantizer extends Module implements Dequantizer {
    /** The size of a variational dequantiser: coupling steps and hidden channels of its networks. */
    public record Spec(int steps, int hidden) {
        public static final int DEFAULT_STEPS = 4;
        public static final int DEFAULT_HIDDEN = 32;

        public Spec {
            if (steps < 1) throw new IllegalArgumentException("the dequantiser needs at least 1 coupling step, got "
                    + steps);
            if (hidden < 1) throw new IllegalArgumentException("the dequantiser's hidden channels must be positive, "
                    + "got " + hidden);
        }
    }

    /** The initial spread of the noise before the sigmoid: sigmoid(N(0, 1.6^2)) is nearly uniform on (0, 1). */
    static final double BASE_SCALE = 1.6;

    private final int channels;
    private final Spec spec;
    private final Tensor baseLogs;
    private final Tensor context1;
    private final Tensor context1Bias;
    private final Tensor context2;
    private final Tensor context2Bias;
    private final List<CouplingStep> steps = new ArrayList<>();
    private final Squeeze squeeze = new Squeeze();

    public VariationalDequantizer(int channels, Spec spec, Init init) {
        if (channels < 1) throw new IllegalArgumentException("the dequantiser needs at least 1 channel, got " + channels);
        this.channels = channels;
        this.spec = spec;
        int c4 = 4 * channels, h = spec.hidden();
        baseLogs = param("base_logs", init.ones(1, c4 / 2, 1, 1).mul(s(Math.log(BASE_SCALE))));
        context1 = param("context.conv1.weight", init.normal(0.05, h, c4, 3, 3));
        context1Bias = param("context.conv1.bias", init.zeros(h));
        context2 = param("context.conv2.weight", init.normal(0.05, h, h, 3, 3));
        context2Bias = param("context.conv2.bias", init.zeros(h));
        for (int k = 0; k < spec.steps(); k++) steps.add(child("step" + k, new CouplingStep(c4 / 2, h, init)));
    }

    public Spec spec() {
        return spec;
    }

    public int channels() {
        return channels;
    }

    /**
     * One affine coupling of the dequantiser: the changing half z (2C channels) becomes {@code z exp(s) + t}, with
     * {@code (s~, t) = ZeroConv3x3(ReLU(conv3x3([other half, f])))} and {@code s = 2 tanh(s~ / 2)}.
     */
    static final class CouplingStep extends Module {
        private final Tensor conv;
        private final Tensor bias;
        private final ZeroConv out;

        CouplingStep(int half, int hidden, Init init) {
            conv = param("conv.weight", init.normal(0.05, hidden, half + hidden, 3, 3));
            bias = param("conv.bias", init.zeros(hidden));
            out = child("out", new ZeroConv(hidden, 2 * half, 3, 1.0, init));
        }

        /** (s, t) for the changing half, from the other half and the context features. */
        Tensor[] scaleShift(Tensor other, Tensor features) {
            Tensor theta = precision().conditioner(other, () ->
                    out.apply(Conv.same(Tensors.cat(1, other, features), conv, bias).relu_()));
            TensorVector p = theta.chunk(2, 1);
            return new Tensor[] {p.get(0).mul(s(0.5)).tanh().mul(s(2.0)), p.get(1)};
        }
    }

    @Override
    public Tensor drawNoise(long[] shape, Tensor like) {
        return torch.randn(shape, Tensors.optionsLike(like));
    }

    /** The context features of a batch of centred images: the only place the flow sees x. */
    public Tensor context(Tensor centred) {
        Tensor sq = squeeze.forward(centred).out();
        return precision().conditioner(centred, () -> {
            Tensor h = Conv.same(sq, context1, context1Bias).relu_();
            return Conv.same(h, context2, context2Bias).relu_();
        });
    }

    @Override
    public Dequantized dequantize(Tensor centred, Tensor noise, int nBins) {
        FlowResult r = noiseOf(noise, context(centred), nBins);
        Tensor logQ = MultiScaleFlow.standardNormalLogProb(noise).sub(r.logDet());
        return new Dequantized(centred.add(r.out()), logQ);
    }

    /** e -> v and log |det dv/de| per sample, given the context features. */
    FlowResult noiseOf(Tensor e, Tensor features, int nBins) {
        Tensor[] ab = halves(squeeze.forward(e).out());
        Tensor scale = baseLogs.exp();
        Tensor a = ab[0].mul(scale), b = ab[1].mul(scale);
        long pixels = ab[0].size(2) * ab[0].size(3);
        Tensor logDet = baseLogs.sum().mul(s(2.0 * pixels)).expand(new long[] {e.size(0)});
        for (int k = 0; k < steps.size(); k++) {
            boolean changeB = k % 2 == 0;
            Tensor[] st = steps.get(k).scaleShift(changeB ? a : b, features);
            Tensor z = (changeB ? b : a).mul(st[0].exp()).add(st[1]);
            if (changeB) b = z;
            else a = z;
            logDet = logDet.add(Tensors.sumPerSample(st[0]));
        }
        Tensor h = squeeze.inverse(whole(a, b)).out();
        // log sigmoid(h) + log sigmoid(-h), stable where the sigmoid rounds to 0 or 1
        Tensor sigmoidLogDet = torch.log_sigmoid(h).add(torch.log_sigmoid(h.neg()));
        double dims = (double) h.size(1) * h.size(2) * h.size(3);
        logDet = logDet.add(Tensors.sumPerSample(sigmoidLogDet)).sub(s(dims * Math.log(nBins)));
        return new FlowResult(torch.sigmoid(h).div(s(nBins)), logDet);
    }

    /** v -> e and log |det de/dv| per sample, given the context features: the exact inverse of {@link #noiseOf}. */
    FlowResult latentOf(Tensor v, Tensor features, int nBins) {
        Tensor u = v.mul(s(nBins));
        Tensor logU = u.log(), log1mU = u.neg().log1p();
        Tensor h = logU.sub(log1mU);
        double dims = (double) v.size(1) * v.size(2) * v.size(3);
        // d logit(u)/du = 1 / (u (1 - u)), du/dv = n_bins
        Tensor logDet = Tensors.sumPerSample(logU.add(log1mU)).neg().add(s(dims * Math.log(nBins)));
        Tensor[] ab = halves(squeeze.forward(h).out());
        Tensor a = ab[0], b = ab[1];
        for (int k = steps.size() - 1; k >= 0; k--) {
            boolean changeB = k % 2 == 0;
            Tensor[] st = steps.get(k).scaleShift(changeB ? a : b, features);
            Tensor z = (changeB ? b : a).sub(st[1]).mul(st[0].neg().exp());
            if (changeB) b = z;
            else a = z;
            logDet = logDet.sub(Tensors.sumPerSample(st[0]));
        }
        Tensor inv = baseLogs.neg().exp();
        long pixels = a.size(2) * a.size(3);
        logDet = logDet.sub(baseLogs.sum().mul(s(2.0 * pixels)));
        return new FlowResult(squeeze.inverse(whole(a.mul(inv), b.mul(inv))).out(), logDet);
    }

    /**
     * The squeezed tensor (B, 4C, h, w) as its two halves (B, 2C, h, w): the pixels on the diagonal of each 2x2 block
     * (offsets (0, 0) and (1, 1), squeezed channels 4c and 4c + 3), and the other two (4c + 1, 4c + 2).
     */
    private Tensor[] halves(Tensor sq) {
        long b = sq.size(0), h = sq.size(2), w = sq.size(3);
        Tensor blocks = sq.reshape(b, channels, 4, h, w);
        Tensor diagonal = Tensors.cat(2, blocks.narrow(2, 0, 1), blocks.narrow(2, 3, 1)).reshape(b, 2L * channels, h, w);
        Tensor other = blocks.narrow(2, 1, 2).reshape(b, 2L * channels, h, w);
        return new Tensor[] {diagonal, other};
    }

    /** The inverse of {@link #halves}. */
    private Tensor whole(Tensor diagonal, Tensor other) {
        long b = diagonal.size(0), h = diagonal.size(2), w = diagonal.size(3);
        Tensor d = diagonal.reshape(b, channels, 2, h, w), o = other.reshape(b, channels, 2, h, w);
        return Tensors.cat(2, d.narrow(2, 0, 1), o, d.narrow(2, 1, 1)).reshape(b, 4L * channels, h, w);
    }

    /**
     * The dequantiser's flow for the fixed centred images {@code centred}, as a bijection between the noise v (data,
     * in (0, 1/n_bins)^D) and e (latent): forward v -> e, inverse e -> v, each with its own log-det.
     */
    public Transform given(Tensor centred, int nBins) {
        return new Transform() {
            @Override
            public FlowResult forward(Tensor v) {
                return latentOf(v, context(centred), nBins);
            }

            @Override
            public FlowResult inverse(Tensor e) {
                return noiseOf(e, context(centred), nBins);
            }
        };
    }

    @Override
    public String toString() {
        return "variational (" + spec.steps() + " coupling steps, " + spec.hidden() + " hidden channels)";
    }
}
