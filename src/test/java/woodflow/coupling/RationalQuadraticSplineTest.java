package woodflow.coupling;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.FlowResult;
import woodflow.core.Tensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The rational-quadratic spline kernels: values and derivatives at the knots, identity tails, monotonicity, the
 * inverse, derivatives against finite differences, zero parameters as the identity, and the coupling's parameter
 * layout.
 */
class RationalQuadraticSplineTest {
    static final int K = 4;
    static final double B = 2.5;
    static final int N = 6; // independent splines

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static Tensor[] randomParameters(long seed) {
        torch.manual_seed(seed);
        var o = Tensors.options(ScalarType.Double);
        return new Tensor[] {torch.randn(new long[] {N, K}, o).mul(s(1.5)),
                torch.randn(new long[] {N, K}, o).mul(s(1.5)),
                torch.randn(new long[] {N, K - 1}, o).mul(s(1.5))};
    }

    /** Evaluates the N splines at one point each: column j of {@code points} for spline j. */
    private static double[][] evaluate(Tensor[] p, double[] points, boolean inverse) {
        Tensor x = Tensors.fromDoubles(points, N);
        Tensor[] r = inverse ? SplineKernels.inverse(x, p[0], p[1], p[2], B)
                : SplineKernels.forward(x, p[0], p[1], p[2], B);
        return new double[][] {Tensors.toDoubles(r[0]), Tensors.toDoubles(r[1])};
    }

    @Test
    void knotsMapToKnotsWithTheirDerivativesAndTheEndsAreExact() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] p = randomParameters(41);
            double[] kx = Tensors.toDoubles(SplineKernels.knots(p[0], B)[0]);
            double[] ky = Tensors.toDoubles(SplineKernels.knots(p[1], B)[0]);
            double[] delta = Tensors.toDoubles(SplineKernels.derivatives(p[2]));
            for (int k = 0; k <= K; k++) {
                double[] at = new double[N];
                for (int j = 0; j < N; j++) at[j] = kx[j * (K + 1) + k];
                double[][] r = evaluate(p, at, false);
                for (int j = 0; j < N; j++) {
                    assertThat(r[0][j]).as("spline %d at knot %d", j, k).isCloseTo(ky[j * (K + 1) + k], within(1e-12));
                    assertThat(Math.exp(r[1][j])).as("derivative of spline %d at knot %d", j, k)
                            .isCloseTo(delta[j * (K + 1) + k], within(1e-9));
                }
            }
            for (int j = 0; j < N; j++) {
                assertThat(kx[j * (K + 1)]).isEqualTo(-B);
                assertThat(kx[j * (K + 1) + K]).isEqualTo(B);
                assertThat(delta[j * (K + 1)]).isEqualTo(1.0);
                assertThat(delta[j * (K + 1) + K]).isEqualTo(1.0);
                for (int k = 0; k < K; k++) {
                    assertThat(kx[j * (K + 1) + k + 1] - kx[j * (K + 1) + k])
                            .isGreaterThanOrEqualTo(2 * B * SplineKernels.MIN * 0.999);
                }
            }
        }
    }

    @Test
    void tailsAreTheIdentityInBothDirections() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] p = randomParameters(42);
            double[] outside = {-B - 1e-9, B + 1e-9, -7.0, 9.5, -B - 3, 100.0};
            for (boolean inverse : new boolean[] {false, true}) {
                double[][] r = evaluate(p, outside, inverse);
                for (int j = 0; j < N; j++) {
                    assertThat(r[0][j]).isEqualTo(outside[j]);
                    assertThat(r[1][j]).isEqualTo(0.0);
                }
            }
        }
    }

    @Test
    void inverseUndoesForwardMonotonicallyAcrossBinsAndTails() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] p = randomParameters(43);
            int points = 601;
            var o = Tensors.options(ScalarType.Double);
            // every spline on the same grid from -B - 0.5 to B + 0.5: x (N, G), parameters broadcast to (N, G, .)
            Tensor x = torch.linspace(new Scalar(-B - 0.5), new Scalar(B + 0.5), points, o).expand(N, points);
            Tensor[] q = new Tensor[3];
            for (int i = 0; i < 3; i++) q[i] = p[i].unsqueeze(1).expand(N, points, p[i].size(1));
            Tensor[] f = SplineKernels.forward(x, q[0], q[1], q[2], B);
            Tensor[] b = SplineKernels.inverse(f[0], q[0], q[1], q[2], B);
            assertThat(b[0].sub(x).abs().max().item_double()).as("inverse(forward(x)) = x").isLessThan(1e-10);
            assertThat(b[1].add(f[1]).abs().max().item_double()).as("log-dets cancel").isLessThan(1e-9);
            Tensor steps = f[0].narrow(1, 1, points - 1).sub(f[0].narrow(1, 0, points - 1));
            assertThat(steps.min().item_double()).as("strictly increasing").isGreaterThan(0.0);
        }
    }

    /** Values of the N splines at {@code at[j] + offset}. */
    private static double[] shifted(Tensor[] p, double[] at, double offset) {
        double[] x = at.clone();
        for (int j = 0; j < x.length; j++) x[j] += offset;
        return evaluate(p, x, false)[0];
    }

    @Test
    void derivativeMatchesFiniteDifferencesInsideBinsAndFromBothSidesOfTheirEdges() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] p = randomParameters(44);
            double[] kx = Tensors.toDoubles(SplineKernels.knots(p[0], B)[0]);
            java.util.Random rnd = new java.util.Random(5);
            double h = 1e-5;
            for (int trial = 0; trial < 20; trial++) {
                // inside: central differences, O(h^2)
                double[] at = new double[N];
                for (int j = 0; j < N; j++) at[j] = (rnd.nextDouble() * 2 - 1) * (B - 2 * h);
                double[] derivative = exp(evaluate(p, at, false)[1]);
                double[] fp = shifted(p, at, h), fm = shifted(p, at, -h);
                for (int j = 0; j < N; j++) {
                    double fd = (fp[j] - fm[j]) / (2 * h);
                    assertThat(derivative[j]).as("derivative at %f", at[j])
                            .isCloseTo(fd, within(1e-6 * Math.max(1, fd)));
                }
                // on an interior knot the second derivative jumps, so check each side's one-sided second-order
                // difference (-3 f(x) + 4 f(x +- h) - f(x +- 2h)) / (+-2h): the spline is C^1 iff both agree
                for (int j = 0; j < N; j++) at[j] = kx[j * (K + 1) + 1 + rnd.nextInt(K - 1)];
                derivative = exp(evaluate(p, at, false)[1]);
                double[] f0 = evaluate(p, at, false)[0];
                for (int side : new int[] {1, -1}) {
                    double[] f1 = shifted(p, at, side * h), f2 = shifted(p, at, 2 * side * h);
                    for (int j = 0; j < N; j++) {
                        double fd = (-3 * f0[j] + 4 * f1[j] - f2[j]) / (2 * side * h);
                        assertThat(derivative[j]).as("derivative at knot %f from side %d", at[j], side)
                                .isCloseTo(fd, within(1e-5 * Math.max(1, fd)));
                    }
                }
            }
        }
    }

    private static double[] exp(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.exp(v[i]);
        return out;
    }

    @Test
    void zeroParametersGiveTheIdentity() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            var o = Tensors.options(ScalarType.Double);
            Tensor x = torch.linspace(new Scalar(-B - 1), new Scalar(B + 1), 101, o);
            Tensor[] r = SplineKernels.forward(x, torch.zeros(new long[] {101, K}, o),
                    torch.zeros(new long[] {101, K}, o), torch.zeros(new long[] {101, K - 1}, o), B);
            assertThat(r[0].sub(x).abs().max().item_double()).isLessThan(1e-12);
            assertThat(r[1].abs().max().item_double()).isLessThan(1e-12);
        }
    }

    @Test
    void couplingTransformReadsElementMajorParametersAndSumsLogDets() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(45);
            var o = Tensors.options(ScalarType.Double);
            RationalQuadraticSpline spline = new RationalQuadraticSpline(K, B);
            assertThat(spline.parametersPerElement()).isEqualTo(3 * K - 1);
            int c2 = 2, h = 3, w = 2, per = 3 * K - 1;
            Tensor x2 = torch.randn(new long[] {2, c2, h, w}, o).mul(s(1.5));
            Tensor theta = torch.randn(new long[] {2, c2 * per, h, w}, o);
            FlowResult f = spline.forward(x2, theta);
            // element (sample 1, channel 1, row 2, column 0): parameters at channels per .. 2 per - 1
            Tensor t = theta.select(0, 1).narrow(0, per, per).select(1, 2).select(1, 0); // (per)
            Tensor[] r = SplineKernels.forward(x2.select(0, 1).select(0, 1).select(0, 2).select(0, 0).reshape(1),
                    t.narrow(0, 0, K).reshape(1, K), t.narrow(0, K, K).reshape(1, K),
                    t.narrow(0, 2 * K, K - 1).reshape(1, K - 1), B);
            assertThat(f.out().select(0, 1).select(0, 1).select(0, 2).select(0, 0).item_double())
                    .isCloseTo(r[0].item_double(), within(1e-14));
            FlowResult b = spline.inverse(f.out(), theta);
            assertThat(b.out().sub(x2).abs().max().item_double()).isLessThan(1e-10);
            assertThat(b.logDet().add(f.logDet()).abs().max().item_double()).isLessThan(1e-10);
            assertThatThrownBy(() -> spline.forward(x2, theta.narrow(1, 0, per)))
                    .hasMessageContaining("needs " + c2 * per + " parameter channels");
        }
    }
}
