package woodflow.core;

/**
 * A layer of a flow: a {@link Module} (parameters, buffers and children, saved and loaded by name; train mode and
 * precision) that is a {@link Transform} (forward data to latent with its per-sample log-det, inverse latent to
 * data). Every invertible layer, coupling and composition ({@link Sequential}) is one, so factories return it and
 * containers hold it, and no caller casts between the two halves — as FrEIA's {@code InvertibleModule} and
 * normflows' {@code Flow(nn.Module)} are both at once.
 */
public abstract class FlowLayer extends Module implements Transform {}
