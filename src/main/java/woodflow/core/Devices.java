package woodflow.core;

import org.bytedeco.pytorch.Tensor;

/** Moving data to the device of the model, so no code assumes the CPU. */
public final class Devices {
    private Devices() {}

    /** {@code t} on the device of {@code like} (itself when it is already there). */
    public static Tensor like(Tensor t, Tensor like) {
        if (t.device().type().value == like.device().type().value && t.device().index() == like.device().index()) {
            return t;
        }
        return t.to(like.device(), Tensors.dtype(t));
    }
}
