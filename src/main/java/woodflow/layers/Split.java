package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.nn.ZeroConv;


/**
 * Glow's split with its learned conditional Gaussian prior: the first half {@code x1} of the channels goes on to the
 * next level, the second half {@code z2} is scored under N(mean(x1), exp(logs(x1))^2), where mean and logs come from
 * a zero-initialised 3x3 convolution of {@code x1} (means from its even output channels, log-stds from its odd ones).
 *
 * <p>As a bijection it standardises {@code z2} by its prior, so that every latent of the model is standard normal:
 * <pre>
 *   forward:  (x1, z2) -> (x1, eps),  eps = (z2 - mean) * exp(-logs)     log-det = -sum(logs)
 *   inverse:  z2 = mean + exp(logs) * eps                                log-det = +sum(logs)
 * </pre>
 * so log N(z2; mean, exp(logs)) = log N(eps; 0, 1) + forward log-det, exactly Glow's split term; sampling at
 * temperature T draws eps ~ N(0, T^2). The prior network runs as a conditioner (bf16 in mixed precision).
 *
 * <p>In a class-conditional model a learned embedding of the class ({@link ClassEmbedding}) is added to the
 * network's output, so mean and logs are functions of (x1, y): Glow's {@code ycond} carried to the split priors.
 */
public final class Split extends FlowLayer {
    private final ZeroConv prior;
    private final int channels;
    private final ClassEmbedding classes;

    public Split(int channels, Init init) {
        this(channels, 0, 0, init, null);
    }

    /**
     * A split of {@code channels x h x w} inputs whose prior is conditioned on the classes of {@code condition}
     * (null: unconditional, and h, w are not needed).
     */
    public Split(int channels, int h, int w, Init init, ClassCondition condition) {
        if (channels % 2 != 0) {
            throw new IllegalArgumentException("split needs an even channel count, got " + channels);
        }
        this.channels = channels;
        prior = child("prior", new ZeroConv(channels / 2, channels, 3, 1.0, init));
        classes = condition == null ? null : child("classes", new ClassEmbedding(condition, init, channels, h, w));
    }

    /** Mean and log-std of z2 given x1, each (B, C/2, H, W). */
    public Tensor[] meanLogStd(Tensor x1) {
        Tensor net = precision().conditioner(x1, () -> prior.apply(x1));
        Tensor h = classes == null ? net : net.add(classes.shift(x1.size(0)));
        long b = h.size(0), hh = h.size(2), ww = h.size(3);
        Tensor r = h.reshape(b, channels / 2, 2, hh, ww);
        return new Tensor[] {r.select(2, 0), r.select(2, 1)};
    }

    @Override
    public FlowResult forward(Tensor x) {
        TensorVector parts = x.chunk(2, 1);
        Tensor x1 = parts.get(0), z2 = parts.get(1);
        Tensor[] ml = meanLogStd(x1);
        Tensor eps = z2.sub(ml[0]).mul(ml[1].neg().exp());
        return new FlowResult(Tensors.cat(1, x1, eps), Tensors.sumPerSample(ml[1]).neg());
    }

    @Override
    public FlowResult inverse(Tensor y) {
        TensorVector parts = y.chunk(2, 1);
        Tensor x1 = parts.get(0), eps = parts.get(1);
        Tensor[] ml = meanLogStd(x1);
        Tensor z2 = ml[0].add(ml[1].exp().mul(eps));
        return new FlowResult(Tensors.cat(1, x1, z2), Tensors.sumPerSample(ml[1]));
    }
}
