package woodflow.core;

import org.bytedeco.pytorch.Tensor;

/**
 * An invertible map between tensors of shape (B, ...). Throughout woodflow, <b>forward means data to latent</b>
 * (the direction in which the likelihood is computed) and <b>inverse means latent to data</b> (the sampling
 * direction).
 *
 * <pre>
 *   forward(x) = (y, log|det dy/dx|)      per sample, shape (B)
 *   inverse(y) = (x, log|det dx/dy|)      = -forward's log-det at the same point
 * </pre>
 *
 * Implementations are {@link Module}s, so their parameters are reachable for the optimiser and their state is saved
 * and loaded by name.
 */
public interface Transform {
    FlowResult forward(Tensor x);

    FlowResult inverse(Tensor y);
}
