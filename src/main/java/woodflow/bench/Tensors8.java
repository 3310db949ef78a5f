package woodflow.bench;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Random 8-bit image batches for benchmarks (the data's content does not change the work of a flow). */
final class Tensors8 {
    private Tensors8() {}

    static Tensor random(int n, int c, int h, int w, long seed) {
        torch.manual_seed(seed);
        return torch.rand(new long[] {n, c, h, w}).mul(woodflow.core.Tensors.s(256)).floor()
                .clamp(new org.bytedeco.pytorch.ScalarOptional(woodflow.core.Tensors.s(0)),
                        new org.bytedeco.pytorch.ScalarOptional(woodflow.core.Tensors.s(255))).to(ScalarType.Byte);
    }

}
