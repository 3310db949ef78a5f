package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.nn.Conv;
import woodflow.nn.ZeroConv;
import woodflow.layers.ActNorm;

/**
 * The paper's coupling network (Glow's NN): conv3x3(c_in -> H) + ActNorm, ReLU, conv1x1(H -> H) + ActNorm, ReLU,
 * then a zero-initialised conv3x3(H -> c_out) scaled by exp(logs * f). The hidden convolutions have no bias (ActNorm
 * supplies it) and start from N(0, 0.05^2), as in the paper's code. Once initialised, each ActNorm is folded into
 * its convolution ({@link ActNorm#convolve}).
 */
public final class GlowConditioner extends Module implements Conditioner {
    private final Tensor conv1;
    private final ActNorm norm1;
    private final Tensor conv2;
    private final ActNorm norm2;
    private final ZeroConv out;

    public GlowConditioner(int in, int hidden, int outChannels, double logScaleFactor, Init init) {
        if (hidden <= 0) throw new IllegalArgumentException("coupling channels must be positive, got " + hidden);
        conv1 = param("conv1", init.normal(0.05, hidden, in, 3, 3));
        norm1 = child("norm1", new ActNorm(hidden, init));
        conv2 = param("conv2", init.normal(0.05, hidden, hidden, 1, 1));
        norm2 = child("norm2", new ActNorm(hidden, init));
        out = child("out", new ZeroConv(hidden, outChannels, 3, logScaleFactor, init));
    }

    @Override
    public Tensor apply(Tensor x1) {
        // ReLU in place: neither convolution needs its output for its backward, and the activations are the largest
        // tensors of a step (a fresh 4 MB buffer per ReLU at 16x16x512 in bf16 otherwise).
        Tensor h = norm1.convolve(Conv.channelsLast(x1), conv1).relu_();
        h = norm2.convolve(h, conv2).relu_();
        return out.apply(h).contiguous();
    }
}
