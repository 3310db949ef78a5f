package woodflow.layers;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * Activation normalisation (Kingma &amp; Dhariwal, 2018): a per-channel affine map with data-dependent
 * initialisation.
 *
 * <pre>
 *   forward:  y = (x + b) * exp(logs)        log-det = h*w * sum(logs)
 *   inverse:  x = y * exp(-logs) - b         log-det = -h*w * sum(logs)
 *   init on the first batch ever seen: b = -mean(x), logs = -log(std(x) + 1e-6), per channel
 * </pre>
 * The "initialised" flag is a buffer, saved with the model, so a loaded model is never re-initialised.
 */
public final class ActNorm extends FlowLayer {
    private final Tensor bias;
    private final Tensor logScale;
    private final Tensor initialised;
    private boolean ready;

    public ActNorm(int channels, Init init) {
        if (channels <= 0) throw new IllegalArgumentException("ActNorm needs a positive channel count, got " + channels);
        bias = param("bias", init.zeros(1, channels, 1, 1));
        logScale = param("logs", init.zeros(1, channels, 1, 1));
        initialised = buffer("initialised", init.zeros(1));
    }

    public boolean isInitialised() {
        return ready;
    }

    /** Sets b and logs from the statistics of {@code x} (float32 at least, whatever the input's precision). */
    public void initialiseFrom(Tensor x) {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor xf = Tensors.dtype(x) == ScalarType.Double ? x.detach() : x.detach().to(ScalarType.Float);
            Tensor mean = xf.mean(new long[] {0, 2, 3}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor std = xf.sub(mean).pow(s(2)).mean(new long[] {0, 2, 3}, true,
                    new org.bytedeco.pytorch.ScalarTypeOptional()).sqrt();
            bias.copy_(mean.neg());
            logScale.copy_(std.add(s(1e-6)).log().neg());
            initialised.fill_(s(1));
        }
        ready = true;
    }

    @Override
    protected void afterLoadSelf() {
        ready = initialised.item_double() > 0.5;
    }

    private Tensor logDet(Tensor x, double sign) {
        double hw = (double) x.size(2) * x.size(3);
        return logScale.sum().mul(s(sign * hw)).expand(x.size(0));
    }

    @Override
    public FlowResult forward(Tensor x) {
        if (!ready) initialiseFrom(x);
        return new FlowResult(x.add(bias).mul(logScale.exp()), logDet(x, 1));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        return new FlowResult(y.mul(logScale.neg().exp()).sub(bias), logDet(y, -1));
    }

    /** The forward map without its log-det, for use inside a conditioner network. */
    public Tensor apply(Tensor x) {
        if (!ready) initialiseFrom(x);
        return x.add(bias).mul(logScale.exp());
    }

    /**
     * {@code apply(conv(x, weight))} with this ActNorm folded into the convolution once initialised:
     * {@code (conv(x, W) + b) * exp(logs) = conv(x, W * exp(logs)) + b * exp(logs)}. The same function of the same
     * parameters (gradients flow through the fold), without two passes over the activations; under bf16 autocast it
     * also keeps the output in bf16 instead of promoting it to float32.
     */
    public Tensor convolve(Tensor x, Tensor weight) {
        if (!ready) return apply(woodflow.nn.Conv.same(x, weight, null));
        Tensor scale = logScale.exp();
        long c = weight.size(0);
        Tensor w = weight.mul(scale.reshape(c, 1, 1, 1));
        Tensor b = bias.mul(scale).reshape(c);
        return woodflow.nn.Conv.same(x, w, b);
    }

    public Tensor bias() {
        return bias;
    }

    public Tensor logScale() {
        return logScale;
    }
}
