package woodflow.layers;

import org.bytedeco.pytorch.LongArrayRefOptional;
import org.bytedeco.pytorch.StringViewOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

/**
 * The kernels of the periodic (circular) convolution (Finz et al., 2019; Hoogeboom et al., 2019) as plain
 * functions. For a kernel {@code K (c_out, c_in, d, d)}, {@code k = d / 2}, on images of h x w pixels:
 *
 * <pre>
 *   spatial:   y[o, p] = sum_{i, a, b} K[o, i, a, b] x[i, (p + (a - k, b - k)) mod (h, w)]
 *   kernel image G (c, c, h, w): tap (a, b) added at ((k - a) mod h, (k - b) mod w), so that y = G (*) x is a
 *             circular convolution
 *   Fourier:   y^(u, v) = M^(u, v) x^(u, v),   M^(u, v) = DFT(G)(u, v), one c x c complex matrix per frequency
 *   log|det|   = sum_{u, v} log|det M^(u, v)|
 *   inverse:   x^(u, v) = M^(u, v)^-1 y^(u, v), then the inverse DFT
 * </pre>
 * A kernel larger than the image wraps around (taps that land on the same pixel add up), exactly as the spatial
 * formula does. The frequency matrices use the real FFT: {@code M^(u, -v) = conj(M^(u, v))} has the same |det|, so
 * only the w/2 + 1 non-negative column frequencies are formed, and their log-dets are counted twice except for
 * v = 0 and (w even) v = w/2. Everything in the Fourier domain is float64 / complex128: the log-det sums h*w terms.
 */
public final class PeriodicKernels {
    private PeriodicKernels() {}

    /** The circular spatial convolution: circular padding by index (any kernel size), then a valid conv2d. */
    public static Tensor circularConv(Tensor x, Tensor kernel) {
        long h = x.size(2), w = x.size(3), d = kernel.size(2);
        Tensor padded = x.index_select(2, wrapIndex(h, d, x)).index_select(3, wrapIndex(w, d, x));
        return woodflow.nn.Conv.padded(padded, kernel, null, 0, 0);
    }

    /** Row indices {@code (j - k) mod n} for j = 0 .. n + 2k - 1: circular padding by k on both sides. */
    private static Tensor wrapIndex(long n, long d, Tensor like) {
        long k = d / 2;
        long[] idx = new long[(int) (n + 2 * k)];
        for (int j = 0; j < idx.length; j++) idx[j] = Math.floorMod(j - k, n);
        return torch.tensor(idx).to(like.device(), ScalarType.Long);
    }

    /** The kernel image G (c_out, c_in, h, w) of the circular convolution, differentiable in the kernel. */
    public static Tensor kernelImage(Tensor kernel, long h, long w) {
        long co = kernel.size(0), ci = kernel.size(1), d = kernel.size(2), k = d / 2;
        double[] place = new double[(int) (d * d * h * w)];
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                long u = Math.floorMod(k - a, h), v = Math.floorMod(k - b, w);
                place[(int) ((a * d + b) * h * w + u * w + v)] += 1;
            }
        }
        Tensor p = Tensors.fromDoubles(place, d * d, h * w).to(kernel.device(), Tensors.dtype(kernel));
        return kernel.reshape(co * ci, d * d).matmul(p).reshape(co, ci, h, w);
    }

    /** The frequency matrices M^(u, v) for v = 0 .. w/2, complex128 of shape (h, w/2 + 1, c_out, c_in). */
    public static Tensor frequencyMatrices(Tensor kernel, long h, long w) {
        Tensor g = kernelImage(kernel.to(ScalarType.Double), h, w);
        return rfft2(g).permute(2, 3, 0, 1);
    }

    /** {@code sum_{u, v} log|det M^(u, v)|} over all h x w frequencies, a float64 scalar (differentiable). */
    public static Tensor logAbsDet(Tensor frequencyMatrices, long w) {
        Tensor perFrequency = torch.linalg_slogdet(frequencyMatrices).get1(); // (h, w/2 + 1)
        return perFrequency.mul(multiplicity(w, perFrequency)).sum();
    }

    /** How often each column frequency v = 0 .. w/2 occurs among v = 0 .. w-1 (itself and its conjugate). */
    private static Tensor multiplicity(long w, Tensor like) {
        double[] m = new double[(int) (w / 2 + 1)];
        for (int v = 0; v < m.length; v++) m[v] = (v == 0 || 2L * v == w) ? 1 : 2;
        return Tensors.fromDoubles(m, m.length).to(like.device(), ScalarType.Double);
    }

    /** {@code y = IDFT(M^ DFT(x))}: the circular convolution computed in the Fourier domain, in float64. */
    public static Tensor applyFourier(Tensor frequencyMatrices, Tensor x) {
        long h = x.size(2), w = x.size(3);
        Tensor xf = rfft2(x.to(ScalarType.Double)).permute(2, 3, 1, 0); // (h, w', c, B)
        Tensor yf = frequencyMatrices.matmul(xf).permute(3, 2, 0, 1);   // (B, c, h, w')
        return irfft2(yf, h, w);
    }

    /** {@code x = IDFT(M^-1 DFT(y))}: the inverse of the circular convolution, in float64. */
    public static Tensor solveFourier(Tensor frequencyMatrices, Tensor y) {
        long h = y.size(2), w = y.size(3);
        Tensor yf = rfft2(y.to(ScalarType.Double)).permute(2, 3, 1, 0);
        Tensor xf = torch.linalg_solve(frequencyMatrices, yf).permute(3, 2, 0, 1);
        return irfft2(xf, h, w);
    }

    private static Tensor rfft2(Tensor x) {
        return torch.fft_rfft2(x, new LongArrayRefOptional(), new long[] {-2, -1}, new StringViewOptional());
    }

    /** The real inverse DFT over the last two axes, to h x w (which fixes the length of an odd last axis). */
    private static Tensor irfft2(Tensor x, long h, long w) {
        return torch.fft_irfft2(x, new long[] {h, w}, new long[] {-2, -1}, new StringViewOptional());
    }
}
