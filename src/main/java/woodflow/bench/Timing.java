package woodflow.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

/**
 * What a benchmark's timings are summarised by and set beside: the median of repeated measurements (a shared machine
 * is noisy; the median ignores the rounds another tenant slowed), and the machine's own matrix-multiply rate measured
 * in the same run. The machine's facts (CPU, CPU time, steal, memory) are read by {@link woodflow.core.MachineInfo}
 * and {@link woodflow.core.ProcessMemory}.
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
}
