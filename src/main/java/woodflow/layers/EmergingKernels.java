package woodflow.layers;

import java.util.stream.IntStream;

/**
 * The serial kernel of the emerging convolution (Hoogeboom et al., 2019): inverting a raster-causal d x d
 * convolution by substitution, in plain Java over primitive arrays.
 *
 * <p>A <i>lower</i> kernel {@code K (c_out, c_in, d, d)}, {@code k = d / 2}, has free taps before the centre in
 * raster order, zeros after it, and a lower-triangular centre {@code K[., ., k, k]} with a non-zero diagonal. The
 * convolution (cross-correlation, zero padding)
 * <pre>
 *   y[o, p] = sum_{i, a, b} K[o, i, a, b] x[i, p + (a - k, b - k)]
 * </pre>
 * makes {@code y} at pixel p and channel o depend only on x at earlier pixels, and at p itself only on channels
 * {@code i <= o}. So, pixel by pixel in raster order and channel by channel,
 * <pre>
 *   x[o, p] = (y[o, p] - sum_{earlier taps} K x - sum_{i < o} K[o, i, k, k] x[i, p]) / K[o, o, k, k]
 * </pre>
 * Images are laid out channels-last, {@code (h, w, c)} per sample. In that layout reversing the whole array of a
 * sample flips rows, columns and channels at once, which turns an <i>upper</i> kernel (the 180-degree turn of a
 * lower one, with channels reversed) into a lower one: {@code flip(K) * x = flip(K * flip(x))}. One solver serves
 * both factors of the emerging convolution.
 *
 * <p>Cost O(c^2 d^2 h w / 2) per sample, like the forward convolution, but serial over pixels: the batch is the only
 * parallelism (samples go to the common fork-join pool). The arithmetic is float64 whatever the model's precision.
 */
public final class EmergingKernels {
    private EmergingKernels() {}

    /**
     * A lower kernel rearranged for the substitution. For output channel o, {@code past[o * pastLength ...]} holds
     * the taps of the k rows above the centre (d pixels x c channels each), then the k taps left of the centre in
     * the centre row (k pixels x c channels), in the order of a channels-last image, so that each row's taps are one
     * contiguous dot product. {@code centre} is the c x c centre tap (row o, column i) and {@code inverseDiagonal}
     * its reciprocal diagonal.
     */
    public record Packed(int c, int d, double[] past, double[] centre, double[] inverseDiagonal) {
        public int k() {
            return d / 2;
        }

        public int pastLength() {
            return k() * (d + 1) * c;
        }
    }

    /**
     * Packs a lower kernel given as a flat array in (c_out, c_in, d, d) order. Entries after the centre and above
     * the centre's diagonal are ignored (they must be zero for the kernel to be lower).
     */
    public static Packed pack(double[] kernel, int c, int d) {
        if (d <= 0 || d % 2 == 0) throw new IllegalArgumentException("kernel size must be odd and positive, got " + d);
        if (kernel.length != c * c * d * d) {
            throw new IllegalArgumentException("a " + c + "x" + c + "x" + d + "x" + d + " kernel has " + c * c * d * d
                    + " entries, got " + kernel.length);
        }
        int k = d / 2;
        int pastLength = k * (d + 1) * c;
        double[] past = new double[c * pastLength];
        double[] centre = new double[c * c];
        double[] inverseDiagonal = new double[c];
        for (int o = 0; o < c; o++) {
            for (int i = 0; i < c; i++) {
                int base = (o * c + i) * d * d;
                for (int a = 0; a < k; a++) {
                    for (int b = 0; b < d; b++) past[o * pastLength + (a * d + b) * c + i] = kernel[base + a * d + b];
                }
                for (int b = 0; b < k; b++) past[o * pastLength + (k * d + b) * c + i] = kernel[base + k * d + b];
                centre[o * c + i] = kernel[base + k * d + k];
            }
            double diag = centre[o * c + o];
            if (diag == 0 || !Double.isFinite(diag)) {
                throw new IllegalArgumentException("the centre diagonal of channel " + o + " is " + diag
                        + ": the convolution is not invertible");
            }
            inverseDiagonal[o] = 1 / diag;
        }
        return new Packed(c, d, past, centre, inverseDiagonal);
    }

    /**
     * Solves {@code y = K * x} for x, for every sample of a channels-last batch {@code (batch, h, w, c)}: returns
     * x in the same layout. Samples are solved in parallel.
     */
    public static double[] solveLower(Packed kernel, double[] y, int batch, int h, int w) {
        int n = h * w * kernel.c();
        if (y.length != batch * n) {
            throw new IllegalArgumentException("expected " + batch + " x " + h + " x " + w + " x " + kernel.c()
                    + " values, got " + y.length);
        }
        double[] x = new double[y.length];
        IntStream.range(0, batch).parallel().forEach(s -> solveLowerSample(kernel, y, x, s * n, h, w));
        return x;
    }

    /**
     * Solves {@code y = K' * x} for an upper kernel {@code K'} = K turned by 180 degrees with its channels reversed
     * (K lower): reverses each sample, solves with K, reverses back.
     */
    public static double[] solveUpper(Packed kernel, double[] y, int batch, int h, int w) {
        int n = h * w * kernel.c();
        double[] flipped = y.clone();
        for (int s = 0; s < batch; s++) reverse(flipped, s * n, (s + 1) * n);
        double[] x = solveLower(kernel, flipped, batch, h, w);
        for (int s = 0; s < batch; s++) reverse(x, s * n, (s + 1) * n);
        return x;
    }

    /** Reverses {@code a[from, to)} in place. */
    public static void reverse(double[] a, int from, int to) {
        for (int i = from, j = to - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * One sample: {@code y[offset, offset + h*w*c)} to {@code x} at the same offset. The solution is built in a
     * zero-bordered image (k rows on top, k columns on each side) so that every tap reads memory without a bounds
     * check, and each row of taps is one contiguous dot product.
     */
    static void solveLowerSample(Packed kernel, double[] y, double[] x, int offset, int h, int w) {
        final int c = kernel.c(), d = kernel.d(), k = kernel.k();
        final int pastLength = kernel.pastLength();
        final int rowTaps = d * c, centreTaps = k * c;
        final int paddedWidth = w + 2 * k;
        final double[] past = kernel.past(), centre = kernel.centre(), inverseDiagonal = kernel.inverseDiagonal();
        final double[] v = new double[(h + k) * paddedWidth * c];
        final double[] rest = new double[c];
        // start[j]: where the j-th contiguous block of taps begins, relative to the current pixel's first channel.
        final int[] start = new int[k + 1];
        for (int a = 0; a < k; a++) start[a] = ((a - k) * paddedWidth - k) * c;
        start[k] = -k * c;

        for (int r = 0; r < h; r++) {
            for (int q = 0; q < w; q++) {
                final int here = ((r + k) * paddedWidth + q + k) * c;
                final int in = offset + (r * w + q) * c;
                int o = 0;
                // Four output channels at a time: four independent accumulators share every load of v.
                for (; o + 3 < c; o += 4) {
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int w0 = o * pastLength, w1 = w0 + pastLength, w2 = w1 + pastLength, w3 = w2 + pastLength;
                    for (int j = 0; j <= k; j++) {
                        int len = j < k ? rowTaps : centreTaps;
                        int src = here + start[j];
                        for (int t = 0; t < len; t++) {
                            double xv = v[src + t];
                            s0 += past[w0 + t] * xv;
                            s1 += past[w1 + t] * xv;
                            s2 += past[w2 + t] * xv;
                            s3 += past[w3 + t] * xv;
                        }
                        w0 += len;
                        w1 += len;
                        w2 += len;
                        w3 += len;
                    }
                    rest[o] = y[in + o] - s0;
                    rest[o + 1] = y[in + o + 1] - s1;
                    rest[o + 2] = y[in + o + 2] - s2;
                    rest[o + 3] = y[in + o + 3] - s3;
                }
                for (; o < c; o++) {
                    double s0 = 0;
                    int w0 = o * pastLength;
                    for (int j = 0; j <= k; j++) {
                        int len = j < k ? rowTaps : centreTaps;
                        int src = here + start[j];
                        for (int t = 0; t < len; t++) s0 += past[w0 + t] * v[src + t];
                        w0 += len;
                    }
                    rest[o] = y[in + o] - s0;
                }
                // The centre tap: forward substitution with the lower-triangular c x c matrix.
                for (o = 0; o < c; o++) {
                    double s0 = rest[o];
                    int row = o * c;
                    for (int i = 0; i < o; i++) s0 -= centre[row + i] * v[here + i];
                    v[here + o] = s0 * inverseDiagonal[o];
                }
            }
            System.arraycopy(v, ((r + k) * paddedWidth + k) * c, x, offset + r * w * c, w * c);
        }
    }
}
