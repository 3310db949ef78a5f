package woodflow.layers;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * The periodic convolution (Finz, Hoogeboom et al., 2019; Hoogeboom, van den Berg &amp; Welling, 2019): a d x d,
 * c -> c convolution with circular padding, invertible frequency by frequency.
 *
 * <pre>
 *   forward:  y = K (*) x, circular padding                   (spatial domain, one conv2d)
 *   log-det = sum_{u, v} log|det M^(u, v)|,  M^(u, v) = DFT of the kernel padded to h x w, a c x c matrix
 *   inverse:  x^(u, v) = M^(u, v)^-1 y^(u, v), then the inverse DFT (real part)
 * </pre>
 * Forward costs O(c^2 d^2 h w) for the convolution plus O(c^3 h w) for the per-frequency determinants; the inverse
 * O(c h w log(h w) + c^3 h w). The Fourier domain is always float64 / complex128 (see {@link PeriodicKernels});
 * gradients flow through the FFT and the complex log-determinants to the kernel.
 *
 * <p>Initialisation: the centre tap is a random rotation (as Glow's 1x1 convolution), the other taps N(0, 0.01^2),
 * so every M^(u, v) starts close to the same orthogonal matrix.
 */
public final class PeriodicConv extends FlowLayer {
    private final int c;
    private final int d;
    private final Tensor kernel;

    public PeriodicConv(int channels, int kernelSize, Init init) {
        if (channels <= 0) {
            throw new IllegalArgumentException("periodic convolution needs a positive channel count, got " + channels);
        }
        if (kernelSize <= 0 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("periodic convolution needs an odd kernel size (3, 5, ...), got "
                    + kernelSize);
        }
        this.c = channels;
        this.d = kernelSize;
        Tensor k0;
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor rotation = torch.linalg_qr(init.normal(1, c, c).to(ScalarType.Double)).get0().to(init.dtype());
            k0 = init.normal(0.01, c, c, d, d);
            k0.select(3, d / 2).select(2, d / 2).copy_(rotation);
        }
        kernel = param("kernel", k0);
    }

    /** The convolution kernel (c, c, d, d). */
    public Tensor kernel() {
        return kernel;
    }

    private void checkInput(Tensor x) {
        if (x.dim() != 4 || x.size(1) != c) {
            throw new IllegalArgumentException("periodic convolution over " + c + " channels takes (B, " + c
                    + ", H, W), got " + Tensors.shapeString(x));
        }
    }

    private Tensor logDet(Tensor frequencyMatrices, Tensor x, double sign) {
        return PeriodicKernels.logAbsDet(frequencyMatrices, x.size(3)).mul(s(sign)).to(Tensors.dtype(x))
                .expand(x.size(0));
    }

    @Override
    public FlowResult forward(Tensor x) {
        checkInput(x);
        Tensor y = PeriodicKernels.circularConv(x, kernel);
        Tensor m = PeriodicKernels.frequencyMatrices(kernel, x.size(2), x.size(3));
        return new FlowResult(y, logDet(m, x, 1));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        checkInput(y);
        Tensor m = PeriodicKernels.frequencyMatrices(kernel, y.size(2), y.size(3));
        Tensor x = PeriodicKernels.solveFourier(m, y).to(Tensors.dtype(y));
        return new FlowResult(x, logDet(m, y, -1));
    }
}
