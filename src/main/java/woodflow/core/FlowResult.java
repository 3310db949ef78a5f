package woodflow.core;

import org.bytedeco.pytorch.Tensor;

/**
 * The output of one direction of a bijection: the transformed tensor and the per-sample log|det| of that
 * direction's Jacobian, of shape (B).
 */
public record FlowResult(Tensor out, Tensor logDet) {}
