package woodflow.data;

/**
 * Resizes square 8-bit image planes with a separable filter: exact area averaging (a box filter with fractional
 * coverage at the edges) when shrinking, bilinear interpolation with half-pixel centres when enlarging. Area averaging
 * is the anti-aliased downscale that keeps every input pixel's weight, so a solid colour stays exactly that colour and
 * a 2x reduction averages 2x2 blocks; it needs no progressive halving.
 *
 * <pre>
 *   shrink, ratio r = n_in / n_out:  out[j] = (1/r) * sum_i |[i, i+1) ∩ [j r, (j+1) r)| * in[i]
 *   enlarge:                          x = (j + 0.5) n_in / n_out - 0.5,  out[j] = (1-f) in[floor x] + f in[floor x + 1]
 * </pre>
 */
public final class Resampler {
    private Resampler() {}

    /** Weights of one axis: output j reads {@code count[j]} inputs from {@code start[j]}, weights at j * stride. */
    private record Kernel(int[] start, int[] count, float[] weight, int stride) {}

    private static Kernel kernel(int in, int out) {
        if (out <= in) {
            double r = (double) in / out;
            int stride = (int) Math.ceil(r) + 1;
            int[] start = new int[out];
            int[] count = new int[out];
            float[] weight = new float[out * stride];
            for (int j = 0; j < out; j++) {
                double lo = j * r;
                double hi = Math.min(in, (j + 1) * r);
                int i0 = (int) Math.floor(lo);
                int i1 = Math.min(in, (int) Math.ceil(hi));
                start[j] = i0;
                count[j] = i1 - i0;
                for (int i = i0; i < i1; i++) {
                    double overlap = Math.min(hi, i + 1) - Math.max(lo, i);
                    weight[j * stride + i - i0] = (float) (overlap / r);
                }
            }
            return new Kernel(start, count, weight, stride);
        }
        int[] start = new int[out];
        int[] count = new int[out];
        float[] weight = new float[out * 2];
        for (int j = 0; j < out; j++) {
            double x = (j + 0.5) * in / out - 0.5;
            int i0 = (int) Math.floor(x);
            double f = x - i0;
            // clamp at the borders: the edge pixel is repeated rather than mixed with black
            int a = Math.max(0, Math.min(in - 1, i0));
            int b = Math.max(0, Math.min(in - 1, i0 + 1));
            start[j] = a;
            count[j] = b - a + 1;
            if (a == b) {
                weight[j * 2] = 1f;
            } else {
                weight[j * 2] = (float) (1 - f);
                weight[j * 2 + 1] = (float) f;
            }
        }
        return new Kernel(start, count, weight, 2);
    }

    /**
     * Resizes {@code planes} square {@code in x in} planes (float values 0..255, plane-major) to {@code out x out}
     * and rounds to bytes in CHW order.
     */
    public static byte[] resize(float[] src, int planes, int in, int out) {
        byte[] dst = new byte[planes * out * out];
        if (in == out) {
            for (int i = 0; i < dst.length; i++) dst[i] = toByte(src[i]);
            return dst;
        }
        Kernel k = kernel(in, out);
        // Vertical pass first, with the row as the inner loop (contiguous, vectorised by the JIT), then horizontal.
        float[] cols = new float[out * in]; // one plane after the vertical pass: out rows x in columns
        for (int p = 0; p < planes; p++) {
            int base = p * in * in;
            java.util.Arrays.fill(cols, 0f);
            for (int i = 0; i < out; i++) {
                int row = i * in;
                for (int t = 0; t < k.count[i]; t++) {
                    float wt = k.weight[i * k.stride + t];
                    int src0 = base + (k.start[i] + t) * in;
                    for (int x = 0; x < in; x++) cols[row + x] += wt * src[src0 + x];
                }
            }
            int obase = p * out * out;
            for (int i = 0; i < out; i++) {
                int row = i * in;
                for (int j = 0; j < out; j++) {
                    float acc = 0;
                    int s0 = row + k.start[j];
                    int wk = j * k.stride;
                    for (int t = 0; t < k.count[j]; t++) acc += k.weight[wk + t] * cols[s0 + t];
                    dst[obase + i * out + j] = toByte(acc);
                }
            }
        }
        return dst;
    }

    private static byte toByte(float v) {
        // round half up; cheaper than Math.round, and inputs are never far below 0 (weights are non-negative)
        if (v <= 0) return 0;
        int r = (int) (v + 0.5f);
        return (byte) Math.min(r, 255);
    }
}
