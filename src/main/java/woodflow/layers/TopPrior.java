package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;

/**
 * The prior of the top latent: a diagonal Gaussian with learned mean and log-std per position (zero-initialised),
 * or the standard normal. Like {@link Split} it standardises its input, so the model's base distribution is N(0, I):
 * <pre>
 *   forward:  eps = (z - mean) * exp(-logs)      log-det = -sum(logs)
 *   inverse:  z = mean + exp(logs) * eps         log-det = +sum(logs)
 * </pre>
 */
public final class TopPrior extends FlowLayer {
    private final Tensor mean;
    private final Tensor logStd;

    public TopPrior(int c, int h, int w, boolean learned, Init init) {
        if (learned) {
            mean = param("mean", init.zeros(1, c, h, w));
            logStd = param("logs", init.zeros(1, c, h, w));
        } else {
            mean = null;
            logStd = null;
        }
    }

    public boolean learned() {
        return mean != null;
    }

    @Override
    public FlowResult forward(Tensor z) {
        if (mean == null) return new FlowResult(z, z.new_zeros(z.size(0)));
        Tensor eps = z.sub(mean).mul(logStd.neg().exp());
        return new FlowResult(eps, logStd.sum().neg().expand(z.size(0)));
    }

    @Override
    public FlowResult inverse(Tensor eps) {
        if (mean == null) return new FlowResult(eps, eps.new_zeros(eps.size(0)));
        Tensor z = mean.add(logStd.exp().mul(eps));
        return new FlowResult(z, logStd.sum().expand(eps.size(0)));
    }

}
