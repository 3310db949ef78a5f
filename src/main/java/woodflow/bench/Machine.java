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

    /** Peak resident memory of this process so far (VmHWM), in MiB, or NaN where /proc is not available. */
    public static double peakRssMiB() {
        return statusField("VmHWM");
    }

    /** Current resident memory of this process (VmRSS), in MiB. */
    public static double rssMiB() {
        return statusField("VmRSS");
    }

    private static double statusField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name + ":")) {
                    return Double.parseDouble(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
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
