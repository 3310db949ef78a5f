package woodflow.distributed;

import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;

/**
 * The collective-communication backend of a data-parallel group, chosen by the device the model lives on, as
 * PyTorch's DistributedDataParallel does: Gloo for CPU tensors, NCCL for CUDA tensors (the GPU build of the presets,
 * {@code mvn -Pgpu}, carries NCCL's natives; the Java classes are the same). The rest of the group's code sees only
 * libtorch's {@link Backend} (allreduce, broadcast), so nothing in it assumes the CPU.
 */
public enum CollectiveBackend {
    GLOO, NCCL;

    /** {@code cpu} -> Gloo; {@code cuda} or {@code cuda:N} -> NCCL; anything else is refused with its name. */
    public static CollectiveBackend forDevice(String device) {
        if (device.equals("cpu")) return GLOO;
        if (device.equals("cuda") || device.matches("cuda:\\d+")) return NCCL;
        throw new IllegalArgumentException("no data-parallel backend for device '" + device + "': use cpu (Gloo) or "
                + "cuda[:N] (NCCL, with the GPU build)");
    }

    /** The process group of this rank; {@code host}: the address Gloo binds to (unused by NCCL). */
    Backend create(Store store, int rank, int worldSize, long timeoutMillis, String host) {
        return switch (this) {
            case GLOO -> {
                ProcessGroupGloo.Options o = ProcessGroupGloo.Options.create(new Milliseconds(timeoutMillis));
                o.devices(new GlooDeviceVector(ProcessGroupGloo.createDeviceForHostname(host)));
                o.threads(2);
                yield new ProcessGroupGloo(store, rank, worldSize, o);
            }
            case NCCL -> new ProcessGroupNCCL(store, rank, worldSize);
        };
    }

    /** The name PyTorch gives it ({@code gloo}, {@code nccl}). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
