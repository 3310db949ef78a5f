package woodflow.coupling;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.InverseRecompute;
import woodflow.core.Module;
import woodflow.core.Precision;
import woodflow.core.Tensors;

/**
 * A coupling layer: a conditioner network plus an element-wise bijection. The channels split into halves
 * {@code [x1, x2]}; {@code x1} passes unchanged and parametrises the transform of {@code x2}:
 * <pre>
 *   forward:  y = [x1, g(x2; NN(x1))]          log-det = log-det of g
 *   inverse:  x = [y1, g^-1(y2; NN(y1))]
 * </pre>
 * The conditioner runs as a {@link Precision#conditioner} (bf16 under mixed precision); the inverse recomputes it on
 * the same input, so the coupling stays exactly invertible in any precision.
 */
public final class Coupling extends FlowLayer implements InverseRecompute {
    private final Conditioner net;
    private final ElementwiseTransform transform;

    public <N extends Module & Conditioner> Coupling(N net, ElementwiseTransform transform) {
        this.net = child("net", net);
        this.transform = transform;
    }

    /** Checks a coupling can split {@code channels} into two equal halves. */
    public static void checkChannels(int channels) {
        if (channels < 2 || channels % 2 != 0) {
            throw new IllegalArgumentException("a coupling layer needs an even channel count of at least 2, got "
                    + channels);
        }
    }

    public ElementwiseTransform transform() {
        return transform;
    }

    private Tensor theta(Tensor x1) {
        return precision().conditioner(x1, () -> net.apply(x1));
    }

    @Override
    public FlowResult forward(Tensor x) {
        TensorVector parts = x.chunk(2, 1);
        Tensor x1 = parts.get(0);
        FlowResult r = transform.forward(parts.get(1), theta(x1));
        return new FlowResult(Tensors.cat(1, x1, r.out()), r.logDet());
    }

    @Override
    public FlowResult inverse(Tensor y) {
        TensorVector parts = y.chunk(2, 1);
        Tensor y1 = parts.get(0);
        FlowResult r = transform.inverse(parts.get(1), theta(y1));
        return new FlowResult(Tensors.cat(1, y1, r.out()), r.logDet());
    }

    /**
     * The input rebuilt from {@code y} and the forward recomputed with graph, with the conditioner evaluated once:
     * {@code x1 = y1} (a leaf requiring grad), {@code theta = NN(x1)} with graph, {@code x2 = g^-1(y2; theta)}
     * without graph (a second leaf), then {@code y = [x1, g(x2; theta)]} with graph. The input's gradient is
     * {@code [x1.grad, x2.grad]}, where {@code x1.grad} includes the path through the network.
     */
    @Override
    public Recomputed recompute(Tensor y) {
        TensorVector parts = y.chunk(2, 1);
        Tensor x1 = parts.get(0).detach().requires_grad_(true);
        Tensor theta = theta(x1);
        Tensor x2;
        try (NoGradGuard g = new NoGradGuard()) {
            x2 = transform.inverse(parts.get(1), theta.detach()).out();
        }
        Tensor x2r = x2.detach().requires_grad_(true);
        FlowResult r = transform.forward(x2r, theta);
        FlowResult forward = new FlowResult(Tensors.cat(1, x1, r.out()), r.logDet());
        Tensor input = Tensors.cat(1, x1.detach(), x2);
        return new Recomputed() {
            @Override
            public Tensor input() {
                return input;
            }

            @Override
            public FlowResult forward() {
                return forward;
            }

            @Override
            public Tensor inputGrad() {
                return Tensors.cat(1, x1.grad(), x2r.grad());
            }
        };
    }
}
