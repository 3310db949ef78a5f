package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowResult;

/**
 * The additive (NICE) update: {@code y2 = x2 + theta}, {@code x2 = y2 - theta}; volume preserving, log-det 0.
 */
public final class AdditiveTransform implements ElementwiseTransform {
    @Override
    public int parametersPerElement() {
        return 1;
    }

    @Override
    public FlowResult forward(Tensor x2, Tensor theta) {
        return new FlowResult(x2.add(theta), x2.new_zeros(x2.size(0)));
    }

    @Override
    public FlowResult inverse(Tensor y2, Tensor theta) {
        return new FlowResult(y2.sub(theta), y2.new_zeros(y2.size(0)));
    }
}
