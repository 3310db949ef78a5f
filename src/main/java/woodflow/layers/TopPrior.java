package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

/**
 * The prior of the top latent: a diagonal Gaussian with learned mean and log-std per position (zero-initialised),
 * or the standard normal; in a class-conditional model both are shifted by a learned embedding of the class
 * ({@link ClassEmbedding}, Glow's {@code ycond}). Like {@link Split} it standardises its input, so the model's base
 * distribution is N(0, I):
 * <pre>
 *   forward:  eps = (z - mean(y)) * exp(-logs(y))      log-det = -sum(logs(y))
 *   inverse:  z = mean(y) + exp(logs(y)) * eps         log-det = +sum(logs(y))
 *   mean(y) = mean + (y W)_mean,  logs(y) = logs + (y W)_logs     (unconditional: the learned mean and logs alone)
 * </pre>
 */
public final class TopPrior extends FlowLayer {
    private final Tensor mean;
    private final Tensor logStd;
    private final ClassEmbedding classes;

    public TopPrior(int c, int h, int w, boolean learned, Init init) {
        this(c, h, w, learned, init, null);
    }

    /** A prior conditioned on the classes of {@code condition} (null: unconditional). */
    public TopPrior(int c, int h, int w, boolean learned, Init init, ClassCondition condition) {
        if (learned) {
            mean = param("mean", init.zeros(1, c, h, w));
            logStd = param("logs", init.zeros(1, c, h, w));
        } else {
            mean = null;
            logStd = null;
        }
        classes = condition == null ? null : child("classes", new ClassEmbedding(condition, init, 2, c, h, w));
    }

    public boolean learned() {
        return mean != null;
    }

    /** Mean and log-std for a batch of {@code b}: (1, c, h, w) each, or (b, c, h, w) when conditional; null: N(0, I). */
    private Tensor[] meanLogStd(Tensor like, long b) {
        if (classes == null) return mean == null ? null : new Tensor[] {mean, logStd};
        Tensor shift = classes.shift(b);
        Tensor m = shift.select(1, 0), l = shift.select(1, 1);
        return mean == null ? new Tensor[] {m, l} : new Tensor[] {m.add(mean), l.add(logStd)};
    }

    @Override
    public FlowResult forward(Tensor z) {
        Tensor[] ml = meanLogStd(z, z.size(0));
        if (ml == null) return new FlowResult(z, z.new_zeros(z.size(0)));
        Tensor eps = z.sub(ml[0]).mul(ml[1].neg().exp());
        return new FlowResult(eps, logDet(ml[1], z.size(0)).neg());
    }

    @Override
    public FlowResult inverse(Tensor eps) {
        Tensor[] ml = meanLogStd(eps, eps.size(0));
        if (ml == null) return new FlowResult(eps, eps.new_zeros(eps.size(0)));
        Tensor z = ml[0].add(ml[1].exp().mul(eps));
        return new FlowResult(z, logDet(ml[1], eps.size(0)));
    }

    /** sum(logs) per sample: the same for every sample unless conditional. */
    private Tensor logDet(Tensor logs, long b) {
        return classes != null ? Tensors.sumPerSample(logs) : logs.sum().expand(b);
    }

}
