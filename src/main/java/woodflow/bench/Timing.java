package woodflow.bench;

import java.util.Arrays;

/**
 * What a benchmark's timings are summarised by: the median of repeated measurements (a shared machine is noisy; the
 * median ignores the rounds another tenant slowed). The machine's facts (CPU, CPU time, steal, memory) are read by
 * {@link woodflow.core.MachineInfo} and {@link woodflow.core.ProcessMemory}, its peak rates measured by
 * {@link woodflow.core.Peak}.
 */
public final class Timing {
    private Timing() {}

    /** The median of {@code v} (the mean of the middle two for an even count). */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
