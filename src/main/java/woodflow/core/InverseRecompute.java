package woodflow.core;

import org.bytedeco.pytorch.Tensor;

/**
 * A transform that rebuilds its input from its output and recomputes its forward, with graph, in one pass: what
 * backpropagation through inverses does at every layer. The default would be {@code x = inverse(y)} without graph,
 * then {@code forward(x')} with graph from {@code x'} = x detached; a coupling evaluates its conditioner network in
 * both, on the same input (its first half passes unchanged), so it implements this to evaluate the network once.
 */
public interface InverseRecompute {
    /**
     * From output {@code y}: the rebuilt input (no graph), the forward recomputed with graph from leaf tensors that
     * hold that input, and, after a backward through that forward, the gradient with respect to the input.
     */
    Recomputed recompute(Tensor y);

    /** The result of {@link #recompute}: {@code inputGrad} is valid after the backward pass. */
    interface Recomputed {
        Tensor input();

        FlowResult forward();

        Tensor inputGrad();
    }
}
