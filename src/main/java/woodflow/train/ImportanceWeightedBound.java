package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import woodflow.data.ImageSource;
import woodflow.model.MultiScaleFlow;

import java.util.function.Consumer;

/**
 * The importance-weighted bound on the bits per dimension of the discrete images (Burda, Grosse &amp; Salakhutdinov
 * 2016; Flow++ reports it with 4,096 samples, DenseFlow with {@code --k}): K dequantisations v_1..v_K of each image,
 * drawn from the model's q(v | x) (uniform or variational),
 * <pre>
 *   w_k   = log p(x~_k) - log q(v_k | x) = -D ln 2 * bpd_k                    (bpd_k: the one-sample figure of draw k)
 *   bpd_K = -(log (1/K sum_k exp(w_k))) / (D ln 2)
 *         = m - (ln s - ln K) / (D ln 2),   m = min_k bpd_k,   s = sum_k exp(-D ln 2 (bpd_k - m))
 * </pre>
 * By Jensen's inequality {@code bpd_K <= (1/K) sum_k bpd_k} for the same draws (equal for K = 1), its expectation
 * falls with K, and it tends to -log2 P(x_b) / D: it is still an upper bound on the discrete model's code length.
 *
 * <p>Streamed: the draws are taken one after the other, each over the whole split in the evaluation's batches (draw 0
 * is exactly {@link Evaluator}'s one-sample evaluation, with the same noise), and each image keeps a running minimum
 * and scaled sum in float64, so memory does not grow with K: no draw is held once its batch's figures are folded in.
 */
public final class ImportanceWeightedBound {
    private ImportanceWeightedBound() {}

    /**
     * Per image: the one-sample figure of draw 0 (what {@code eval} reports without K), the mean of the K one-sample
     * figures, and the K-sample bound; bits per dimension.
     */
    public record Result(int samples, double[] oneSample, double[] meanOfSamples, double[] bound) {
        public double oneSampleBpd() {
            return mean(oneSample);
        }

        public double meanOfSamplesBpd() {
            return mean(meanOfSamples);
        }

        public double boundBpd() {
            return mean(bound);
        }

        private static double mean(double[] a) {
            double s = 0;
            for (double v : a) s += v;
            return s / a.length;
        }
    }

    /**
     * The largest K {@code eval --samples} takes: Flow++'s (Ho et al. 2019). Each draw is one evaluation of the whole
     * split, so K draws take K times one evaluation; past this the bound barely moves and the time is unbounded.
     */
    public static final int MAX_SAMPLES = 4096;

    /** Told after each draw: its index (0..K-1) and its mean one-sample figure. */
    @FunctionalInterface
    public interface Progress {
        void drawDone(int draw, double meanBpd);
    }

    /**
     * The seed of draw {@code k}'s noise: the evaluation's own seed for draw 0 (so draw 0 is the one-sample
     * evaluation), a mix of it and k for the others.
     */
    public static long drawSeed(long noiseSeed, int k) {
        if (k == 0) return noiseSeed;
        long z = noiseSeed + 0x9E3779B97F4A7C15L * k; // SplitMix64's finaliser: well-spread seeds for neighbouring k
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & Long.MAX_VALUE;
    }

    /** The bound over images {@code [0, count)} of {@code source} with {@code samples} dequantisations each. */
    public static Result evaluate(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch,
                                  long noiseSeed, int samples, Progress progress) {
        return evaluate(model, source, count, nBits, batch, noiseSeed, samples, progress, null);
    }

    /** {@link #evaluate}, telling {@code probe} (may be null) every dequantised batch before its forward. */
    static Result evaluate(MultiScaleFlow model, ImageSource source, int count, int nBits, int batch, long noiseSeed,
                           int samples, Progress progress, Consumer<Tensor> probe) {
        if (samples < 1) throw new IllegalArgumentException("the number of samples K must be at least 1, got " + samples);
        int n = Math.min(count, source.size());
        double c = (double) source.channels() * source.height() * source.width() * Math.log(2);
        double[] first = null, sum = new double[n], min = new double[n], scaled = new double[n];
        for (int k = 0; k < samples; k++) {
            double[] b = Evaluator.bitsPerDim(model, source, n, nBits, batch, drawSeed(noiseSeed, k), 0, 1, probe);
            double drawSum = 0;
            for (int i = 0; i < n; i++) {
                double v = b[i];
                drawSum += v;
                sum[i] += v;
                if (k == 0) {
                    min[i] = v;
                    scaled[i] = 1;
                } else if (v < min[i]) {
                    scaled[i] = scaled[i] * Math.exp(-c * (min[i] - v)) + 1;
                    min[i] = v;
                } else {
                    scaled[i] += Math.exp(-c * (v - min[i]));
                }
            }
            if (k == 0) first = b;
            if (progress != null) progress.drawDone(k, drawSum / n);
        }
        double[] mean = new double[n], bound = new double[n];
        double logK = Math.log(samples);
        for (int i = 0; i < n; i++) {
            mean[i] = sum[i] / samples;
            // a NaN or infinite draw makes the image's bound NaN or infinite too, as it makes the mean
            bound[i] = Double.isFinite(sum[i]) ? min[i] - (Math.log(scaled[i]) - logK) / c : mean[i];
        }
        return new Result(samples, first, mean, bound);
    }
}
