package woodflow.contract;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.core.Transform;
import woodflow.io.SafeTensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static woodflow.core.Tensors.s;

/**
 * The one contract every layer and model obeys, in float64 on tiny inputs with random (non-zero) parameters and
 * ActNorm initialised: shapes; finite values; inverse(forward(x)) = x and forward(inverse(y)) = y; log-dets that
 * cancel; log-det = log|det| of the brute-force Jacobian; parameter gradients = central finite differences, none zero;
 * a save/load round trip that reproduces the outputs exactly. Then the round trips again in float32, and in bf16-mixed
 * for every case with a conditioner network; a check that does not apply to a case is skipped with the reason.
 */
class TransformContractTest {
    /**
     * Standard deviation of the noise added to every parameter after initialisation: large enough that no
     * parameter sits at its (often zero) initial value, small enough that a random deep model stays well conditioned.
     */
    static final double PERTURBATION = 0.05;

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static List<ContractCase> cases() {
        return ContractCases.all();
    }

    /** Builds the module in float64, runs one forward (ActNorm's data-dependent init), perturbs every parameter. */
    static Module prepared(ContractCase c, long seed, Tensor x) {
        return prepared(c, Init.float64(), seed, x);
    }

    static Module prepared(ContractCase c, Init init, long seed, Tensor x) {
        torch.manual_seed(seed);
        Module m = c.build(init);
        ContractCase.asTransform(m).forward(x);
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : m.parameters()) p.add_(torch.randn(Tensors.shape(p), Tensors.optionsLike(p)).mul(s(PERTURBATION)));
        }
        return m;
    }

    static Tensor input(ContractCase c, long seed) {
        torch.manual_seed(seed);
        return c.domain().apply(torch.randn(c.shape(), Tensors.options(ScalarType.Double)));
    }

    static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void inverseUndoesForwardAndLogDetsCancel(ContractCase c) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = input(c, 1);
            Transform t = ContractCase.asTransform(prepared(c, 2, x));
            FlowResult f = t.forward(x);
            assertThat(f.logDet().dim()).as("log-det is per sample").isEqualTo(1);
            assertThat(f.logDet().size(0)).isEqualTo(x.size(0));
            assertThat(f.out().size(0)).isEqualTo(x.size(0));
            assertThat(f.out().numel()).as("a bijection keeps the dimension").isEqualTo(x.numel());
            assertThat(Tensors.allFinite(f.out()) && Tensors.allFinite(f.logDet())).isTrue();
            FlowResult b = t.inverse(f.out());
            assertThat(maxAbs(b.out().sub(x))).as("inverse(forward(x)) = x").isLessThan(1e-8);
            assertThat(maxAbs(b.logDet().add(f.logDet()))).as("log-dets cancel")
                    .isLessThan(1e-8 * Math.max(1, maxAbs(f.logDet())));

            Tensor y = f.out().add(torch.randn_like(f.out()).mul(s(0.1)));
            FlowResult yi = t.inverse(y);
            assertThat(maxAbs(t.forward(yi.out()).out().sub(y))).as("forward(inverse(y)) = y").isLessThan(1e-8);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logDetEqualsBruteForceJacobian(ContractCase c) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x0 = input(c, 3);
            Transform t = ContractCase.asTransform(prepared(c, 4, x0));
            Tensor x = x0.clone().requires_grad_(true);
            FlowResult f = t.forward(x);
            long batch = x.size(0), d = x.numel() / batch;
            Tensor y = f.out().reshape(batch, d);
            Tensor[] rows = new Tensor[(int) d];
            for (int i = 0; i < d; i++) {
                Tensor yi = y.select(1, i).sum();
                TensorVector g = torch.grad(new TensorVector(yi), new TensorVector(x), new TensorVector(),
                        new BoolOptional(true), false, false);
                rows[i] = g.get(0).reshape(batch, 1, d);
            }
            Tensor jac = torch.cat(new TensorVector(rows), 1); // (B, d_out, d_in)
            double[] brute = Tensors.toDoubles(torch.linalg_slogdet(jac).get1());
            double[] reported = Tensors.toDoubles(f.logDet());
            for (int b = 0; b < batch; b++) {
                assertThat(reported[b]).as("log-det of sample " + b)
                        .isCloseTo(brute[b], org.assertj.core.data.Offset.offset(1e-6 * Math.max(1, Math.abs(brute[b]))));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parameterGradientsMatchFiniteDifferences(ContractCase c) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = input(c, 5);
            Module m = prepared(c, 6, x);
            Transform t = ContractCase.asTransform(m);
            torch.manual_seed(7);
            FlowResult f0 = t.forward(x);
            Tensor r = torch.randn_like(f0.out().detach());
            Tensor rl = torch.randn_like(f0.logDet().detach());
            java.util.function.Supplier<Tensor> loss = () -> {
                FlowResult f = t.forward(x);
                return f.out().mul(r).sum().add(f.logDet().mul(rl).sum());
            };
            Map<String, Tensor> params = m.namedParameters();
            assumeFalse(params.isEmpty(), c.name() + " has no parameters: no gradient to check");
            for (Tensor p : params.values()) if (p.grad().defined()) p.grad().zero_();
            loss.get().backward();
            Random rnd = new Random(11);
            List<String> failures = new ArrayList<>();
            for (var e : params.entrySet()) {
                Tensor p = e.getValue();
                assertThat(p.grad().defined()).as("gradient of " + e.getKey() + " is defined").isTrue();
                double[] g = Tensors.toDoubles(p.grad());
                double norm = 0;
                for (double v : g) norm += v * v;
                assertThat(norm).as("gradient of " + e.getKey() + " is not zero").isGreaterThan(0);
                Tensor flat = p.detach().view(-1);
                for (int k = 0; k < Math.min(3, g.length); k++) {
                    int i = k == 0 ? argMaxAbs(g) : rnd.nextInt(g.length);
                    double h = 1e-6, plus, minus;
                    try (NoGradGuard ng = new NoGradGuard()) {
                        Tensor entry = flat.select(0, i);
                        entry.add_(s(h));
                        plus = loss.get().item_double();
                        entry.sub_(s(2 * h));
                        minus = loss.get().item_double();
                        entry.add_(s(h));
                    }
                    double fd = (plus - minus) / (2 * h);
                    double tol = 1e-4 * Math.max(Math.abs(fd), Math.abs(g[i])) + 1e-7;
                    if (Math.abs(fd - g[i]) > tol) {
                        failures.add(e.getKey() + "[" + i + "]: autograd " + g[i] + ", finite differences " + fd);
                    }
                }
            }
            assertThat(failures).as("gradients that disagree with finite differences").isEmpty();
        }
    }

    private static int argMaxAbs(double[] g) {
        int best = 0;
        for (int i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[best])) best = i;
        return best;
    }

    /** Float32, the precision models train in: the round trips hold to float32 rounding. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void roundTripsInFloat32(ContractCase c) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            roundTrip(c, Precision.FP32);
        }
    }

    /**
     * bf16-mixed: the conditioner networks run in bfloat16, the invertible path in float32, so the round trips still
     * hold to float32 rounding (forward and inverse see the same conditioner outputs).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void roundTripsInBf16Mixed(ContractCase c) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor fp32 = roundTrip(c, Precision.FP32);
            Tensor bf16 = roundTrip(c, Precision.BF16_MIXED);
            assumeFalse(torch.equal(fp32, bf16), c.name() + " has no conditioner network: bf16-mixed runs it exactly "
                    + "as float32, which roundTripsInFloat32 checks");
        }
    }

    /**
     * Forward and inverse in float32 at {@code precision}; returns the forward's output. A model gets what models get,
     * images in [-0.5, 0.5); a layer standard normal values. In bf16-mixed an autoregressive inverse (MaCow) feeds
     * its conditioner the rebuilt inputs, which can round to a neighbouring bfloat16 value: there the round trip holds
     * to bfloat16's precision (2^-8), elsewhere to the case's float32 tolerance.
     */
    private static Tensor roundTrip(ContractCase c, Precision precision) {
        torch.manual_seed(13);
        Tensor x = c.name().startsWith("model-")
                ? torch.rand(c.shape(), Tensors.options(ScalarType.Float)).sub(s(0.5))
                : c.domain().apply(torch.randn(c.shape(), Tensors.options(ScalarType.Float)));
        double tolerance = precision == Precision.BF16_MIXED ? 1.0 / 256 : c.float32Tolerance();
        Module m = prepared(c, Init.float32(), 14, x);
        m.precision(precision);
        Transform t = ContractCase.asTransform(m);
        FlowResult f = t.forward(x);
        assertThat(Tensors.dtype(f.out())).as("output dtype").isEqualTo(ScalarType.Float);
        assertThat(Tensors.dtype(f.logDet())).as("log-det dtype").isEqualTo(ScalarType.Float);
        assertThat(Tensors.allFinite(f.out()) && Tensors.allFinite(f.logDet())).isTrue();
        FlowResult b = t.inverse(f.out());
        assertThat(maxAbs(b.out().sub(x))).as("%s: inverse(forward(x)) = x", precision)
                .isLessThan(tolerance * Math.max(1, maxAbs(x)));
        assertThat(maxAbs(b.logDet().add(f.logDet()))).as("%s: log-dets cancel", precision)
                .isLessThan(tolerance * Math.max(1, maxAbs(f.logDet())));
        return f.out();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void saveLoadRoundTripReproducesOutputs(ContractCase c) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = input(c, 8);
            Module m = prepared(c, 9, x);
            byte[] bytes = SafeTensors.write(m.stateDict(), Map.of("layer", c.name()));
            SafeTensors.Contents back = SafeTensors.read(bytes, "round trip");
            assertThat(back.metadata()).containsEntry("layer", c.name());
            torch.manual_seed(12345);
            Module fresh = c.build();
            fresh.loadStateDict(back.tensors());
            try (NoGradGuard g = new NoGradGuard()) {
                FlowResult a = ContractCase.asTransform(m).forward(x);
                FlowResult b = ContractCase.asTransform(fresh).forward(x);
                assertThat(maxAbs(a.out().sub(b.out()))).isEqualTo(0.0);
                assertThat(maxAbs(a.logDet().sub(b.logDet()))).isEqualTo(0.0);
            }
        }
    }
}
