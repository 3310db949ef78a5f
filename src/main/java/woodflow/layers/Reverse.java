package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;

/** Reverses the channel order (RealNVP's fixed permutation): a permutation, log-det 0. */
public final class Reverse extends FlowLayer {
    public Reverse(int channels) {
        if (channels <= 0) throw new IllegalArgumentException("reverse needs a positive channel count, got " + channels);
    }

    @Override
    public FlowResult forward(Tensor x) {
        return new FlowResult(x.flip(1), x.new_zeros(x.size(0)));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        return new FlowResult(y.flip(1), y.new_zeros(y.size(0)));
    }
}
