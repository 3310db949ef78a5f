package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;

/**
 * The network of a coupling layer: maps the conditioning half {@code x1} (B, c1, H, W) to the element-wise
 * transform's parameters (B, outChannels, H, W). It need not be invertible.
 */
public interface Conditioner {
    Tensor apply(Tensor x1);
}
