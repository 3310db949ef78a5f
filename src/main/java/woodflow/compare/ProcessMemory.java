package woodflow.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from {@code /proc/self/status}: the current resident set (VmRSS) and its peak so
 * far (VmHWM, which only grows). A study trains each run in its own process and reads the peak when training ends,
 * before the report's sampling, so the figure is the training's own: JVM, libtorch, the data set, and the model's
 * parameters, Adam's moments and the activations kept for the backward pass. Where there is no {@code /proc}
 * (not Linux) both are NaN.
 */
final class ProcessMemory {
    private ProcessMemory() {}

    static double residentMb() {
        return field("VmRSS:");
    }

    static double peakMb() {
        return field("VmHWM:");
    }

    private static double field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
