package woodflow.core;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Moving data to the device of the model, so no code assumes the CPU. */
public final class Devices {
    private Devices() {}

    /**
     * Checks a device named on the command line ({@code cpu}, {@code cuda} or {@code cuda:N}) and loads libtorch;
     * CUDA must be available for a cuda device (this build has the CPU natives unless built with the gpu profile).
     */
    public static void require(String device) {
        if (!device.equals("cpu") && !device.startsWith("cuda")) {
            throw new IllegalArgumentException("--device must be cpu or cuda[:N], got '" + device + "'");
        }
        Tensors.load();
        if (device.startsWith("cuda") && !torch.cuda_is_available()) {
            throw new IllegalArgumentException("--device " + device + ": CUDA is not available (this build has the CPU "
                    + "natives unless built with `mvn -Pgpu package`, and the machine needs an NVIDIA GPU; see README)");
        }
    }

    /** {@code t} on the device of {@code like} (itself when it is already there). */
    public static Tensor like(Tensor t, Tensor like) {
        if (t.device().type().value == like.device().type().value && t.device().index() == like.device().index()) {
            return t;
        }
        return t.to(like.device(), Tensors.dtype(t));
    }
}
