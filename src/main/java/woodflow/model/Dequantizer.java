package woodflow.model;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;

import static woodflow.core.Tensors.s;

/**
 * How a batch of integer images becomes the continuous input of a flow (docs/FORMULAS.md, "Dequantisation"): noise v
 * in the bin of each pixel, {@code x~ = c + v} with {@code c = x_b / n_bins - 0.5} and v in [0, 1/n_bins)^D, and the
 * density q(v | x) it was drawn from. The bits per dimension of a dequantisation are
 * <pre>
 *   bpd = -(log p(x~) - log q(v | x)) / (D ln 2)           an upper bound on -log2 P(x_b) / D for every q
 *   uniform:      v = u / n_bins, u ~ U(0, 1)^D            log q = D ln n_bins, the figure woodflow has always reported
 *   variational:  v from a flow conditioned on x           log q as {@link VariationalDequantizer} computes it
 * </pre>
 * The noise is drawn by the caller ({@link #drawNoise}, from libtorch's default generator, so that a seed fixes it and
 * a data-parallel rank can take its rows of a global batch's draw), then turned into v by {@link #dequantize}.
 */
public interface Dequantizer {
    /**
     * A dequantised batch: x~ of shape (B, C, H, W) and log q(v | x) per sample in the model's units (nats), or null
     * for uniform noise, whose log q is the constant D ln n_bins (kept implicit, so that the bits per dimension of a
     * uniform dequantisation are computed exactly as they always were).
     */
    record Dequantized(Tensor x, Tensor logQ) {}

    /** Base noise for a batch of {@code shape} (B, C, H, W), with the dtype and device of {@code like}. */
    Tensor drawNoise(long[] shape, Tensor like);

    /** x~ = c + v and log q(v | x) from the centred image {@code c} and a draw of {@link #drawNoise}. */
    Dequantized dequantize(Tensor centred, Tensor noise, int nBins);

    /** Whether the noise is plain U(0, 1/n_bins)^D (nothing to train). */
    default boolean isUniform() {
        return false;
    }

    /** Uniform dequantisation: {@code v = u / n_bins}, {@code u ~ U(0, 1)^D}; log q = D ln n_bins. */
    Dequantizer UNIFORM = new Dequantizer() {
        @Override
        public Tensor drawNoise(long[] shape, Tensor like) {
            return torch.rand(shape, Tensors.optionsLike(like));
        }

        @Override
        public Dequantized dequantize(Tensor centred, Tensor noise, int nBins) {
            // the same operations as data.Quantization.dequantize, so the same bits
            return new Dequantized(centred.add(noise.div(s(nBins))), null);
        }

        @Override
        public boolean isUniform() {
            return true;
        }

        @Override
        public String toString() {
            return "uniform";
        }
    };
}
