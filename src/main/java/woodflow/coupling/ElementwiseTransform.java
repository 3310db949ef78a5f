package woodflow.coupling;

import org.bytedeco.pytorch.Tensor;
import woodflow.core.FlowResult;

/**
 * The element-wise bijection of a coupling layer, applied to the transformed half {@code x2} (B, c2, H, W) with
 * parameters {@code theta} (B, c2 * parametersPerElement(), H, W) from the conditioner. Forward and inverse return
 * per-sample log-dets that cancel.
 */
public interface ElementwiseTransform {
    int parametersPerElement();

    FlowResult forward(Tensor x2, Tensor theta);

    FlowResult inverse(Tensor y2, Tensor theta);
}
