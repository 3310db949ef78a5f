package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.core.Tensors;

/** Options every command takes. */
public class Common {
    @Option(names = "--threads", description = "Threads for libtorch (default: all cores).")
    Integer threads;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu (default) or cuda (needs the GPU build, "
            + "see README).")
    String device;

    void setUp() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            System.setProperty("woodflow.threads", Integer.toString(threads));
        }
        if (!device.equals("cpu") && !device.startsWith("cuda")) {
            throw new IllegalArgumentException("--device must be cpu or cuda[:N], got '" + device + "'");
        }
        Tensors.load();
        if (device.startsWith("cuda") && !org.bytedeco.pytorch.global.torch.cuda_is_available()) {
            throw new IllegalArgumentException("--device " + device + ": CUDA is not available (this build has the CPU "
                    + "natives unless built with `mvn -Pgpu package`, and the machine needs an NVIDIA GPU; see README)");
        }
    }
}
