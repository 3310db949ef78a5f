package woodflow.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The memory an operation adds, from the kernel's accounting of this process: {@link #resetPeak} sets the
 * high-water mark (VmHWM) back to the current resident size by writing 5 to {@code /proc/self/clear_refs}, and
 * {@link #peakSince} reads how far it rose. Where that file cannot be written, the peak is NaN.
 */
public final class Memory {
    private Memory() {}

    /** Resets the peak to the current resident size and returns that size in MiB (NaN when unsupported). */
    public static double resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return Machine.rssMiB();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Double.NaN;
        }
    }

    /** MiB the peak rose above {@code base} since {@link #resetPeak}. */
    public static double peakSince(double base) {
        return Math.max(0, Machine.peakRssMiB() - base);
    }
}
