package woodflow.data;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import java.util.List;

import static woodflow.core.Tensors.s;

/**
 * n-bit reduction and uniform dequantisation (Lu &amp; Huang 2020, supplement Appendix A.1 and C.2;
 * docs/FORMULAS.md):
 * <pre>
 *   x_b = floor(x / 2^(8 - n_bits)),   n_bins = 2^n_bits
 *   x~  = x_b / n_bins - 0.5 + u,      u ~ U(0, 1/n_bins), fresh every time
 *   back to pixels: floor((x + 0.5) * n_bins) * (256 / n_bins), clamped to [0, 255]
 * </pre>
 */
public final class Quantization {
    private Quantization() {}

    public static int bins(int nBits) {
        if (nBits < 1 || nBits > 8) throw new IllegalArgumentException("n_bits must be 1..8, got " + nBits);
        return 1 << nBits;
    }

    /** Stacks CHW byte images into a (B, C, H, W) uint8 tensor. */
    public static Tensor stack(List<byte[]> images, int c, int h, int w) {
        byte[] all = new byte[images.size() * c * h * w];
        int off = 0;
        for (byte[] im : images) {
            System.arraycopy(im, 0, all, off, im.length);
            off += im.length;
        }
        return Tensors.fromBytes(all, ScalarType.Byte, images.size(), c, h, w);
    }

    /** n-bit reduced values x_b / n_bins - 0.5 (without noise), as float32. */
    public static Tensor centred(Tensor uint8, int nBits) {
        int bins = bins(nBits);
        Tensor x = uint8.to(ScalarType.Float);
        if (nBits < 8) x = x.div(s(1 << (8 - nBits))).floor();
        return x.div(s(bins)).sub(s(0.5));
    }

    /** Dequantised batch with fresh uniform noise from libtorch's default generator. */
    public static Tensor dequantize(Tensor uint8, int nBits) {
        Tensor x = centred(uint8, nBits);
        return x.add(torch.rand_like(x).div(s(bins(nBits))));
    }

    /**
     * Rows {@code [firstRow, firstRow + b)} of the dequantisation of a batch of {@code globalRows} images, given only
     * those b rows: the noise is drawn for the whole (globalRows, C, H, W) batch, so each image gets the noise it gets
     * when the whole batch is dequantised at once (one rank's shard of a data-parallel batch).
     */
    public static Tensor dequantizeRows(Tensor uint8Rows, int nBits, long globalRows, long firstRow) {
        Tensor x = centred(uint8Rows, nBits);
        long[] shape = Tensors.shape(x);
        long rows = shape[0];
        if (firstRow == 0 && rows == globalRows) return x.add(torch.rand_like(x).div(s(bins(nBits))));
        shape[0] = globalRows;
        Tensor u = torch.rand(shape, Tensors.optionsLike(x)).narrow(0, firstRow, rows);
        return x.add(u.div(s(bins(nBits))));
    }

    /** Model space back to 8-bit pixels, as a uint8 tensor. */
    public static Tensor toPixels(Tensor x, int nBits) {
        int bins = bins(nBits);
        return x.add(s(0.5)).mul(s(bins)).floor().mul(s(256.0 / bins)).clamp(new org.bytedeco.pytorch.ScalarOptional(s(0)),
                new org.bytedeco.pytorch.ScalarOptional(s(255))).to(ScalarType.Byte);
    }
}
