package woodflow.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Facts about the machine a benchmark ran on: matrix-multiply rate, memory of this process, cores. */
public final class Machine {
    private Machine() {}

    /** Median GFLOP/s of an n x n x n matrix product in the given dtype (Float or BFloat16), after warm-up. */
    public static double matmulGflops(int n, ScalarType dtype, int repeats) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor a = torch.randn(new long[] {n, n}).to(dtype), b = torch.randn(new long[] {n, n}).to(dtype);
            for (int i = 0; i < 3; i++) a.matmul(b);
            double[] t = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                a.matmul(b).sum().item_double();
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            return 2.0 * n * n * n / median(t) / 1e9;
        }
    }

    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * The machine's CPU time counters from /proc/stat (all cores, in clock ticks): {@code [total, steal]}, or null
     * where /proc is not available. Steal is time a virtual machine's CPUs were ready to run but the host ran
     * something else: on a shared host it is the part of a benchmark's wall time that another tenant took.
     */
    public static long[] cpuTicks() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (!line.startsWith("cpu ")) continue;
                String[] f = line.trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]); // user .. steal
                return new long[] {total, f.length > 8 ? Long.parseLong(f[8]) : 0};
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    /** Percentage of CPU time stolen by the host between two {@link #cpuTicks} readings, or NaN. */
    public static double stealPercent(long[] before, long[] after) {
        if (before == null || after == null || after[0] <= before[0]) return Double.NaN;
        return 100.0 * (after[1] - before[1]) / (after[0] - before[0]);
    }

    /** CPU time used by this process (all threads), in nanoseconds; -1 where the JVM does not report it. */
    public static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Peak resident memory of this process so far (VmHWM), in MiB, or NaN where /proc is not available. */
    public static double peakRssMiB() {
        return woodflow.core.ProcessMemory.peakMib();
    }

    /** Current resident memory of this process (VmRSS), in MiB. */
    public static double rssMiB() {
        return woodflow.core.ProcessMemory.residentMib();
    }

    public static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }
}
