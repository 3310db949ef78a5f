package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Adam against its defining recurrence (Kingma &amp; Ba, 2015), computed here in plain doubles: m = b1 m + (1 - b1) g,
 * v = b2 v + (1 - b2) g^2, p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), with decoupled weight decay.
 */
class AdamTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void threeStepsFollowTheRecurrence() {
        double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 1e-3, wd = 0.01;
        double[] p0 = {0.5, -1.25, 2.0};
        double[][] grads = {{0.1, -0.2, 3.0}, {-0.05, 0.4, 0.0}, {1e-4, -1e-4, 2.5}};
        try (PointerScope scope = new PointerScope()) {
            Tensor p = Tensors.fromDoubles(p0.clone(), 3).requires_grad_(true);
            Adam adam = new Adam(Map.of("p", p), b1, b2, eps, wd);
            double[] ref = p0.clone(), m = new double[3], v = new double[3];
            for (int t = 1; t <= 3; t++) {
                p.sum().backward(); // creates grad (ones), then overwritten below
                p.grad().copy_(Tensors.fromDoubles(grads[t - 1], 3));
                adam.update(lr);
                for (int i = 0; i < 3; i++) {
                    double g = grads[t - 1][i];
                    m[i] = b1 * m[i] + (1 - b1) * g;
                    v[i] = b2 * v[i] + (1 - b2) * g * g;
                    ref[i] *= 1 - lr * wd;
                    ref[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
                }
                adam.zeroGrad();
            }
            double[] got = Tensors.toDoubles(p.detach());
            for (int i = 0; i < 3; i++) assertThat(got[i]).isCloseTo(ref[i], within(1e-12));
            assertThat(adam.step()).isEqualTo(3);
        }
    }

    @Test
    void gradientNormIsTheGlobalL2NormAndNotFiniteWhenAnElementIsNot() {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = Tensors.fromDoubles(new double[] {1, 2}, 2).requires_grad_(true);
            Tensor b = Tensors.fromDoubles(new double[] {3, 4, 5}, 3).requires_grad_(true);
            Adam adam = new Adam(new java.util.LinkedHashMap<>(Map.of("a", a, "b", b)), 0.9, 0.999, 1e-8, 0);
            // loss = a . (1, 2) + b . (3, 4, 5): the gradients are those vectors
            Tensor loss = a.mul(Tensors.fromDoubles(new double[] {1, 2}, 2)).sum()
                    .add(b.mul(Tensors.fromDoubles(new double[] {3, 4, 5}, 3)).sum());
            loss.backward();
            assertThat(adam.gradNorm()).isCloseTo(Math.sqrt(1 + 4 + 9 + 16 + 25), within(1e-12));
            b.grad().select(0, 1).fill_(Tensors.s(Double.NaN));
            assertThat(Double.isFinite(adam.gradNorm())).isFalse();
        }
    }

    @Test
    void theFusedKernelIsThereAndNonContiguousParametersGetTheSameUpdate() {
        assertThat(woodflow.core.Foreach.available()).as("libtorch's fused AdamW and list kernels").isTrue();
        try (PointerScope scope = new PointerScope()) {
            // the same values as a contiguous parameter (fused kernel) and a transposed view (per-tensor path)
            Tensor base = org.bytedeco.pytorch.global.torch.randn(new long[] {3, 4});
            Tensor a = base.clone().requires_grad_(true);
            Tensor b = base.t().contiguous().t().requires_grad_(true);
            assertThat(b.is_contiguous()).isFalse();
            Adam adam = new Adam(new java.util.LinkedHashMap<>(Map.of("a", a, "b", b)), 0.9, 0.999, 1e-8, 0.01);
            for (int t = 0; t < 3; t++) {
                Tensor g = org.bytedeco.pytorch.global.torch.randn(new long[] {3, 4});
                a.mul(g).sum().add(b.mul(g).sum()).backward();
                adam.update(1e-2);
                adam.zeroGrad();
            }
            assertThat(a.sub(b).abs().max().item_double()).isLessThan(1e-6);
            assertThat(a.sub(base).abs().max().item_double()).as("the parameters moved").isGreaterThan(1e-3);
            assertThat(a.grad().defined()).as("zeroGrad dropped the gradients").isFalse();
            assertThat(b.grad().defined()).as("zeroGrad dropped the gradients").isFalse();
        }
    }

    @Test
    void anUpdateBumpsEveryParametersVersionCounter() {
        // Eval-mode caches (LowRankFactor's inverse and log-det) are keyed on the version counters: an update that
        // changed a parameter without bumping its counter would leave a stale cache behind.
        try (PointerScope scope = new PointerScope()) {
            Tensor a = org.bytedeco.pytorch.global.torch.randn(new long[] {3, 4}).requires_grad_(true);
            Adam adam = new Adam(Map.of("a", a), 0.9, 0.999, 1e-8, 0);
            a.sum().backward();
            long before = a._version();
            adam.update(1e-3);
            assertThat(a._version()).isGreaterThan(before);
        }
    }
}
