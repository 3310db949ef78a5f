package woodflow.layers;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;

/**
 * Space-to-depth: {@code (B, C, H, W) -> (B, 4C, H/2, W/2)}, each 2x2 block moved to channels (channel c*4 + 2i + j
 * holds the pixel at offset (i, j) of channel c's block). A permutation: log-det 0.
 */
public final class Squeeze extends FlowLayer {
    @Override
    public FlowResult forward(Tensor x) {
        long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        if (h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("squeeze needs even height and width, got " + h + "x" + w);
        }
        Tensor y = x.reshape(b, c, h / 2, 2, w / 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, c * 4, h / 2, w / 2);
        return new FlowResult(y, x.new_zeros(new long[] {b}));
    }

    @Override
    public FlowResult inverse(Tensor y) {
        long b = y.size(0), c = y.size(1), h = y.size(2), w = y.size(3);
        Tensor x = y.reshape(b, c / 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c / 4, h * 2, w * 2);
        return new FlowResult(x, y.new_zeros(new long[] {b}));
    }
}
