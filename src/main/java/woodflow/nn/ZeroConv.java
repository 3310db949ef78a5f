package woodflow.nn;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.Init;
import woodflow.core.Module;

import static woodflow.core.Tensors.s;

/**
 * Glow's "Conv2dZeros": a zero-initialised k x k convolution whose output is multiplied by exp(logs * f) with a
 * learned per-channel logs starting at 0. Zero initialisation makes every coupling and split prior start as the
 * identity / standard normal. f = 1 in the paper's code, 3 in Glow's.
 */
public final class ZeroConv extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor logs;
    private final double logScaleFactor;

    public ZeroConv(int in, int out, int kernel, double logScaleFactor, Init init) {
        weight = param("weight", init.zeros(out, in, kernel, kernel));
        bias = param("bias", init.zeros(out));
        logs = param("logs", init.zeros(1, out, 1, 1));
        this.logScaleFactor = logScaleFactor;
    }

    public Tensor apply(Tensor x) {
        Tensor y = Conv.same(x, weight, bias);
        return y.mul((logScaleFactor == 1 ? logs : logs.mul(s(logScaleFactor))).exp());
    }
}
