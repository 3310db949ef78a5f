package woodflow.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from {@code /proc/self/status}: the current resident set (VmRSS) and its peak so
 * far (VmHWM, which only grows unless {@link #resetPeak} resets it). The one reader of that file for the
 * studies (a run's peak when its training ends), the benchmarks (the memory an operation adds) and the memory
 * benchmark. Where there is no {@code /proc} (not Linux) both are NaN.
 */
public final class ProcessMemory {
    private ProcessMemory() {}

    /** Current resident memory (VmRSS), in MiB, or NaN. */
    public static double residentMib() {
        return field("VmRSS:");
    }

    /** Peak resident memory so far (VmHWM), in MiB, or NaN. */
    public static double peakMib() {
        return field("VmHWM:");
    }

    /**
     * Resets the peak to the current resident size, by writing 5 to {@code /proc/self/clear_refs}, and returns that
     * size in MiB: what {@link #peakSince} measures from. NaN where that file cannot be written.
     */
    public static double resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return residentMib();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Double.NaN;
        }
    }

    /** MiB the peak rose above {@code base} since {@link #resetPeak}: the memory an operation added. */
    public static double peakSince(double base) {
        return Math.max(0, peakMib() - base);
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
