package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.layers.ActNorm;

import static woodflow.core.Tensors.s;

/**
 * The masked (row-causal) network of a MaCow coupling (Ma, Kong, Zhang &amp; Hovy, 2019): its output at row i sees
 * only rows {@code < i} of its input, so a coupling that transforms row i with it has a triangular Jacobian.
 *
 * <pre>
 *   shift down one row (row i now holds input row i-1, row 0 holds zeros)
 *   conv kh x kw looking up (zero padding kh-1 rows on top, none below) c -> H, ActNorm, ReLU
 *   zero-initialised conv kh x kw looking up H -> c_out, times exp(logs * f)
 * </pre>
 * with {@code kh = kw / 2 + 1} (2 x 3 for kw = 3). Output row i sees input rows i - (2 kh - 1) .. i - 1
 * ({@link #receptiveRows()} rows above it). ActNorm mixes no rows, so it keeps the mask. One hidden layer, as in
 * MaCow's own masked convolution flow: the inverse feeds reconstructed rows back into this network, and a deeper,
 * more sensitive network makes that feedback amplify errors (a tiny random model with two ActNorm'd hidden layers
 * overflowed when inverting latents off its training data).
 */
public final class MaskedConvNet extends Module {
    private final int kernelHeight;
    private final int kernelWidth;
    private final Tensor conv1;
    private final ActNorm norm1;
    private final Tensor outWeight;
    private final Tensor outBias;
    private final Tensor outLogs;
    private final double logScaleFactor;

    public MaskedConvNet(int in, int hidden, int outChannels, int kernelWidth, double logScaleFactor, Init init) {
        if (hidden <= 0) throw new IllegalArgumentException("MaCow conv channels must be positive, got " + hidden);
        if (kernelWidth <= 0 || kernelWidth % 2 == 0) {
            throw new IllegalArgumentException("MaCow kernel width must be odd and positive, got " + kernelWidth);
        }
        this.kernelWidth = kernelWidth;
        this.kernelHeight = kernelWidth / 2 + 1;
        this.logScaleFactor = logScaleFactor;
        conv1 = param("conv1", init.normal(0.05, hidden, in, kernelHeight, kernelWidth));
        norm1 = child("norm1", new ActNorm(hidden, init));
        outWeight = param("out_weight", init.zeros(outChannels, hidden, kernelHeight, kernelWidth));
        outBias = param("out_bias", init.zeros(outChannels));
        outLogs = param("out_logs", init.zeros(1, outChannels, 1, 1));
    }

    /** How many rows above row i the output at row i can see. */
    public int receptiveRows() {
        return 2 * kernelHeight - 1;
    }

    /** A convolution that looks only at the current row and the kh - 1 rows above it. */
    private Tensor lookUp(Tensor x, Tensor weight, Tensor bias) {
        long side = kernelWidth / 2;
        Tensor padded = torch.constant_pad_nd(x, new long[] {side, side, kernelHeight - 1, 0}, s(0));
        return woodflow.nn.Conv.padded(padded, weight, bias, 0, 0);
    }

    /** (B, in, H, W) to (B, outChannels, H, W), row i depending only on input rows {@code < i}. */
    public Tensor apply(Tensor x) {
        Tensor shifted = torch.constant_pad_nd(x, new long[] {0, 0, 1, 0}, s(0)).narrow(2, 0, x.size(2));
        Tensor h = norm1.apply(lookUp(shifted, conv1, null)).relu();
        return lookUp(h, outWeight, outBias).mul(outLogs.mul(s(logScaleFactor)).exp());
    }
}
