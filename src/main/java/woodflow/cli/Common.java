package woodflow.cli;

import picocli.CommandLine.Option;
import woodflow.core.Devices;

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
        Devices.require(device);
    }
}
