package woodflow.layers;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The periodic convolution's kernels term by term: the spatial circular convolution against its definition in plain
 * loops, the Fourier-domain product against the spatial convolution, and the per-frequency log-det against the
 * dense Jacobian of the circular convolution (even and odd widths, kernels larger than the image).
 */
class PeriodicConvTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    /** y[o, r, q] = sum K[o, i, a, b] x[i, (r + a - k) mod h, (q + b - k) mod w], in plain loops. */
    private static double[] circularByDefinition(double[] x, double[] kernel, int c, int d, int h, int w) {
        int k = d / 2;
        double[] y = new double[c * h * w];
        for (int o = 0; o < c; o++) {
            for (int r = 0; r < h; r++) {
                for (int q = 0; q < w; q++) {
                    double sum = 0;
                    for (int i = 0; i < c; i++) {
                        for (int a = 0; a < d; a++) {
                            for (int b = 0; b < d; b++) {
                                int rr = Math.floorMod(r + a - k, h), qq = Math.floorMod(q + b - k, w);
                                sum += kernel[((o * c + i) * d + a) * d + b] * x[(i * h + rr) * w + qq];
                            }
                        }
                    }
                    y[(o * h + r) * w + q] = sum;
                }
            }
        }
        return y;
    }

    @ParameterizedTest(name = "c={0} d={1} h={2} w={3}")
    @CsvSource({"3, 3, 5, 6", "2, 5, 3, 4", "2, 3, 2, 2", "3, 3, 4, 5", "1, 7, 3, 3"})
    void spatialAndFourierCircularConvolutionsAgreeWithTheDefinition(int c, int d, int h, int w) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(31);
            Tensor kernel = torch.randn(new long[] {c, c, d, d}, Tensors.options(ScalarType.Double));
            Tensor x = torch.randn(new long[] {1, c, h, w}, Tensors.options(ScalarType.Double));
            double[] expected = circularByDefinition(Tensors.toDoubles(x), Tensors.toDoubles(kernel), c, d, h, w);

            Tensor spatial = PeriodicKernels.circularConv(x, kernel);
            assertThat(Tensors.shape(spatial)).containsExactly(1, c, h, w);
            assertClose(Tensors.toDoubles(spatial), expected, 1e-12);

            Tensor m = PeriodicKernels.frequencyMatrices(kernel, h, w);
            assertThat(Tensors.shape(m)).containsExactly(h, w / 2 + 1, c, c);
            assertClose(Tensors.toDoubles(PeriodicKernels.applyFourier(m, x)), expected, 1e-12);
            assertClose(Tensors.toDoubles(PeriodicKernels.solveFourier(m, spatial)), Tensors.toDoubles(x), 1e-9);
        }
    }

    private static void assertClose(double[] a, double[] b, double tol) {
        assertThat(a).hasSameSizeAs(b);
        for (int i = 0; i < a.length; i++) assertThat(a[i]).as("entry " + i).isCloseTo(b[i], within(tol));
    }

    @ParameterizedTest(name = "c={0} d={1} h={2} w={3}")
    @CsvSource({"3, 3, 4, 4", "2, 3, 3, 5", "2, 5, 3, 4", "3, 3, 2, 2"})
    void logDetEqualsTheDenseJacobianOfTheCircularConvolution(int c, int d, int h, int w) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(32);
            PeriodicConv layer = new PeriodicConv(c, d, Init.float64());
            try (NoGradGuard g = new NoGradGuard()) {
                layer.kernel().add_(torch.randn_like(layer.kernel()).mul(s(0.3)));
            }
            Tensor x = torch.randn(new long[] {1, c, h, w}, Tensors.options(ScalarType.Double));
            double[][] jac = DenseJacobian.of(v -> PeriodicKernels.circularConv(v, layer.kernel()), x);
            int n = jac.length;
            double[] flat = new double[n * n];
            for (int j = 0; j < n; j++) System.arraycopy(jac[j], 0, flat, j * n, n);
            double dense = torch.linalg_slogdet(Tensors.fromDoubles(flat, n, n)).get1().item_double();
            FlowResult f = layer.forward(x);
            assertThat(f.logDet().item_double()).isCloseTo(dense, within(1e-9 * Math.max(1, Math.abs(dense))));
        }
    }

    @Test
    void logDetGradientReachesEveryTapOfTheKernel() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(33);
            PeriodicConv layer = new PeriodicConv(2, 3, Init.float64());
            Tensor x = torch.randn(new long[] {1, 2, 4, 4}, Tensors.options(ScalarType.Double));
            Tensor logDet = layer.forward(x).logDet().sum();
            TensorVector grads = torch.grad(new TensorVector(logDet), new TensorVector(layer.kernel()));
            double[] grad = Tensors.toDoubles(grads.get(0));
            for (int i = 0; i < grad.length; i++) assertThat(Math.abs(grad[i])).as("tap " + i).isGreaterThan(0);
        }
    }
}
