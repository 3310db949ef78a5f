package woodflow.layers;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.nn.Conv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The emerging convolution beyond the shared contract: each masked factor's Jacobian has exactly the triangular
 * pattern in raster order that its log-det and its substitution rely on; the substitution kernels invert the
 * convolutions directly (float32 round trips are in the contract test).
 */
class EmergingConvTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static void perturb(Module m, double std) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(std)));
        }
    }

    /** Position of (channel, row, column) in the raster order of the substitution: pixel-major, channel-minor. */
    private static int raster(int channel, int pixel, int c) {
        return pixel * c + channel;
    }

    /**
     * Checks a factor's Jacobian against the raster order: {@code lower} means output (p, o) depends only on inputs
     * (p', i) with p' &lt; p, or p' = p and i &lt;= o; otherwise the mirror image. Returns the diagonal in the
     * (channel, pixel) order, and asserts that entries strictly on the allowed side exist (the test is not vacuous).
     */
    private static double[] checkTriangular(double[][] jac, int c, int h, int w, boolean lower) {
        int n = h * w;
        double[] diagonal = new double[c * n];
        int offPixel = 0, offChannel = 0;
        for (int o = 0; o < c; o++) {
            for (int p = 0; p < n; p++) {
                for (int i = 0; i < c; i++) {
                    for (int q = 0; q < n; q++) {
                        double v = jac[o * n + p][i * n + q];
                        int out = raster(o, p, c), in = raster(i, q, c);
                        boolean allowed = lower ? in <= out : in >= out;
                        if (!allowed) {
                            assertThat(Math.abs(v)).as("d y[%d, pixel %d] / d x[%d, pixel %d]", o, p, i, q)
                                    .isEqualTo(0.0);
                        } else if (in == out) {
                            diagonal[o * n + p] = v;
                        } else if (v != 0) {
                            if (p == q) offChannel++;
                            else offPixel++;
                        }
                    }
                }
            }
        }
        assertThat(offPixel).as("entries from other pixels").isGreaterThan(0);
        assertThat(offChannel).as("entries from other channels of the same pixel").isGreaterThan(0);
        return diagonal;
    }

    @Test
    void eachMaskedFactorIsTriangularInRasterOrderWithTheCentreDiagonal() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(21);
            int c = 3, h = 4, w = 5;
            EmergingConv layer = new EmergingConv(c, 3, Init.float64());
            perturb(layer, 0.3);
            Tensor x = torch.randn(new long[] {1, c, h, w}, Tensors.options(ScalarType.Double));
            Tensor logDiag1 = layer.namedParameters().get("logdiag1");
            Tensor logDiag2 = layer.namedParameters().get("logdiag2");

            double[][] j1 = DenseJacobian.of(v -> Conv.same(v, layer.kernel1(), null), x);
            double[] d1 = checkTriangular(j1, c, h, w, true);
            double[][] j2 = DenseJacobian.of(v -> Conv.same(v, layer.kernel2(), null), x);
            double[] d2 = checkTriangular(j2, c, h, w, false);

            double[] e1 = Tensors.toDoubles(logDiag1.exp()), e2 = Tensors.toDoubles(logDiag2.exp());
            for (int o = 0; o < c; o++) {
                for (int p = 0; p < h * w; p++) {
                    assertThat(d1[o * h * w + p]).isCloseTo(e1[o], within(1e-12));
                    // A2 is the 180-degree turn with channels reversed: channel o's diagonal is entry c-1-o.
                    assertThat(d2[o * h * w + p]).isCloseTo(e2[c - 1 - o], within(1e-12));
                }
            }
            // The masked part of the log-det is h*w * (sum logdiag1 + sum logdiag2).
            FlowResult f = layer.forward(x);
            double conv1x1 = layer.conv1x1().forward(x).logDet().item_double();
            double expected = h * w * (logDiag1.sum().item_double() + logDiag2.sum().item_double());
            assertThat(f.logDet().item_double() - conv1x1).isCloseTo(expected, within(1e-10));
        }
    }

    @Test
    void substitutionKernelsInvertLowerAndUpperConvolutions() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(22);
            int c = 5, d = 5, h = 6, w = 7, b = 3;
            EmergingConv layer = new EmergingConv(c, d, Init.float64());
            perturb(layer, 0.2);
            Tensor lower = layer.kernel1();
            EmergingKernels.Packed packed = EmergingKernels.pack(Tensors.toDoubles(lower), c, d);
            Tensor x = torch.randn(new long[] {b, c, h, w}, Tensors.options(ScalarType.Double));
            double[] expected = Tensors.toDoubles(x.permute(0, 2, 3, 1));

            double[] yLower = Tensors.toDoubles(Conv.same(x, lower, null).permute(0, 2, 3, 1));
            assertMaxAbsDiff(EmergingKernels.solveLower(packed, yLower, b, h, w), expected, 1e-10);

            // The upper kernel is the lower one turned by 180 degrees with its channels reversed.
            double[] yUpper = Tensors.toDoubles(Conv.same(x, lower.flip(0, 1, 2, 3), null).permute(0, 2, 3, 1));
            assertMaxAbsDiff(EmergingKernels.solveUpper(packed, yUpper, b, h, w), expected, 1e-10);
        }
    }

    private static void assertMaxAbsDiff(double[] a, double[] b, double tol) {
        assertThat(a).hasSameSizeAs(b);
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        assertThat(max).isLessThan(tol);
    }

    @Test
    void packRejectsAZeroCentreDiagonal() {
        double[] kernel = new double[2 * 2 * 3 * 3];
        kernel[(0 * 2 + 0) * 9 + 4] = 1; // channel 0's diagonal; channel 1's stays 0
        assertThatThrownBy(() -> EmergingKernels.pack(kernel, 2, 3))
                .hasMessageContaining("centre diagonal of channel 1");
    }
}
