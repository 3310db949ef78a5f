package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowResult;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * Glow's affine update, as the paper's code has it: {@code shift = theta[:, 0::2]},
 * {@code scale = sigmoid(theta[:, 1::2] + 2)}.
 * <pre>
 *   forward:  y2 = (x2 + shift) * scale        log-det = sum(log scale)
 *   inverse:  x2 = y2 / scale - shift          log-det = -sum(log scale)
 * </pre>
 * The sigmoid keeps the scale in (0, 1) and starts it near 0.88, which makes training stable.
 */
public final class AffineTransform implements ElementwiseTransform {
    @Override
    public int parametersPerElement() {
        return 2;
    }

    private static Tensor[] shiftLogScale(Tensor theta) {
        long b = theta.size(0), c = theta.size(1) / 2, h = theta.size(2), w = theta.size(3);
        Tensor r = theta.reshape(b, c, 2, h, w);
        Tensor shift = r.select(2, 0);
        // log(sigmoid(a)) = -softplus(-a): finite where sigmoid(a) underflows to 0.
        Tensor logScale = org.bytedeco.pytorch.global.torch.log_sigmoid(r.select(2, 1).add(s(2.0)));
        return new Tensor[] {shift, logScale};
    }

    @Override
    public FlowResult forward(Tensor x2, Tensor theta) {
        Tensor[] p = shiftLogScale(theta);
        Tensor y = x2.add(p[0]).mul(p[1].exp());
        return new FlowResult(y, Tensors.sumPerSample(p[1]));
    }

    @Override
    public FlowResult inverse(Tensor y2, Tensor theta) {
        Tensor[] p = shiftLogScale(theta);
        Tensor x = y2.mul(p[1].neg().exp()).sub(p[0]);
        return new FlowResult(x, Tensors.sumPerSample(p[1]).neg());
    }
}
