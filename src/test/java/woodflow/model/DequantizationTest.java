package woodflow.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.contract.ContractCases;
import woodflow.core.Init;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.data.Quantization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The dequantisation formula (docs/FORMULAS.md): {@code bpd = -(log p(x~) - log q(v | x)) / (D ln 2)}. With q uniform
 * it is exactly the figure woodflow always reported; a variational dequantiser's log q is the base density minus the
 * log-det of its whole map e -> v, the sigmoid's and the 1/n_bins scaling's included (checked against the brute-force
 * Jacobian). The dequantiser's own transform contract is in {@code contract.ContractCases}.
 */
class DequantizationTest {
    static final VariationalDequantizer.Spec SPEC = new VariationalDequantizer.Spec(3, 6);

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    /** Centred 8-bit images c = x_b / 256 - 0.5 of shape (B, C, H, W) in the given dtype. */
    static Tensor centred(long seed, ScalarType dtype, int nBits, long... shape) {
        torch.manual_seed(seed);
        Tensor bytes = torch.randint(0, 256, shape).to(ScalarType.Byte);
        return Quantization.centred(bytes, nBits).to(dtype);
    }

    @Test
    void withUniformNoiseTheFormulaIsTodaysFigureExactly() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(3);
            MultiScaleFlow model = new MultiScaleFlow(ContractCases.tiny("woodbury", 2, 2), Init.float64());
            for (int nBits : new int[] {8, 5}) {
                int bins = Quantization.bins(nBits);
                Tensor c = centred(4, ScalarType.Double, nBits, 3, 2, 8, 8);
                torch.manual_seed(5);
                Tensor x = c.add(torch.rand_like(c).div(s(bins)));
                Tensor today = model.bitsPerDim(x, bins);
                // q = U(c, c + 1/n_bins)^D: density n_bins^D, log q = D ln n_bins for every sample
                double dims = 2 * 8 * 8;
                Tensor logQ = torch.full(new long[] {3}, s(dims * Math.log(bins)), Tensors.optionsLike(x));
                Tensor formula = model.bitsPerDim(new Dequantizer.Dequantized(x, logQ), bins);
                assertThat(Tensors.toDoubles(formula)).as("%d bits", nBits).containsExactly(Tensors.toDoubles(today));
                // and the uniform dequantiser draws the noise data.Quantization always drew, to the bit
                torch.manual_seed(6);
                Tensor u = Dequantizer.UNIFORM.drawNoise(Tensors.shape(c), c);
                Dequantizer.Dequantized d = Dequantizer.UNIFORM.dequantize(c, u, bins);
                torch.manual_seed(6);
                Tensor before = c.add(torch.rand_like(c).div(s(bins)));
                assertThat(torch.equal(d.x(), before)).isTrue();
                assertThat(d.logQ()).as("uniform log q is implicit").isNull();
            }
        }
    }

    @Test
    void logQIsTheBaseDensityMinusTheLogDetOfTheWholeMapSigmoidAndScalingIncluded() {
        try (PointerScope scope = new PointerScope()) {
            for (int nBits : new int[] {8, 3}) {
                int bins = Quantization.bins(nBits);
                torch.manual_seed(7);
                VariationalDequantizer dq = perturbed(new VariationalDequantizer(2, SPEC, Init.float64()));
                Tensor c = centred(8, ScalarType.Double, nBits, 2, 2, 4, 4);
                torch.manual_seed(9);
                Tensor e = dq.drawNoise(Tensors.shape(c), c).requires_grad_(true);
                Dequantizer.Dequantized d = dq.dequantize(c, e, bins);
                Tensor v = d.x().sub(c);
                assertThat(v.min().item_double()).as("v > 0").isGreaterThan(0);
                assertThat(v.max().item_double()).as("v < 1/n_bins").isLessThan(1.0 / bins);
                double[] jacobian = logAbsDetJacobian(v, e);
                double[] logN = Tensors.toDoubles(MultiScaleFlow.standardNormalLogProb(e));
                double[] logQ = Tensors.toDoubles(d.logQ());
                for (int b = 0; b < 2; b++) {
                    assertThat(logQ[b]).as("%d bits, sample %d: log q = log N(e) - log|det dv/de|", nBits, b)
                            .isCloseTo(logN[b] - jacobian[b], within(1e-8 * Math.abs(logQ[b])));
                }
                // the scaling alone moves log q by D ln n_bins: dropping it would be off by 32 ln 256 = 177 nats here
                assertThat(Math.abs(logQ[0] - logN[0])).isGreaterThan(32 * Math.log(bins) / 2);
            }
        }
    }

    /** log |det dv/de| per sample by autograd, one row of the Jacobian at a time (samples are independent). */
    static double[] logAbsDetJacobian(Tensor v, Tensor e) {
        long batch = v.size(0), dims = v.numel() / batch;
        Tensor flat = v.reshape(batch, dims);
        Tensor[] rows = new Tensor[(int) dims];
        for (int i = 0; i < dims; i++) {
            TensorVector g = torch.grad(new TensorVector(flat.select(1, i).sum()), new TensorVector(e),
                    new TensorVector(), new BoolOptional(true), false, false);
            rows[i] = g.get(0).reshape(batch, 1, dims);
        }
        return Tensors.toDoubles(torch.linalg_slogdet(torch.cat(new TensorVector(rows), 1)).get1());
    }

    static VariationalDequantizer perturbed(VariationalDequantizer dq) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : dq.parameters()) p.add_(torch.randn_like(p).mul(s(0.1)));
        }
        return dq;
    }

    /**
     * At initialisation (output convolutions at zero) q is sigmoid(N(0, 1.6^2)) / n_bins: close to uniform, so that a
     * run starts near the uniform figure. Its log-density in bins, E[log q_u], is measured by Monte Carlo: about
     * 0.013-0.015 nats per dimension (uniform: 0; sigmoid(N(0, 1)): 0.19).
     */
    @Test
    void atInitialisationTheNoiseIsNearlyUniform() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(10);
            VariationalDequantizer dq = new VariationalDequantizer(1, SPEC, Init.float64());
            Tensor c = centred(11, ScalarType.Double, 8, 256, 1, 8, 8);
            Tensor e = dq.drawNoise(Tensors.shape(c), c);
            Dequantizer.Dequantized d = dq.dequantize(c, e, 256);
            double dims = 64;
            // log q_u = log q_v - D ln n_bins: the density of u = n_bins v on (0, 1)^D
            double perDim = d.logQ().mean().item_double() / dims - Math.log(256);
            assertThat(perDim).isBetween(0.0, 0.1);
            // and the mean of u is 1/2 (the base is symmetric)
            double meanU = d.x().sub(c).mul(s(256)).mean().item_double();
            assertThat(meanU).isCloseTo(0.5, within(0.01));
        }
    }

    /**
     * bf16-mixed: the context net and the couplings' networks run in bf16, the noise and log q stay float32, and the
     * figures stay within bf16's rounding of fp32's.
     */
    @Test
    void inBf16MixedTheNetworksRunInBf16AndTheNoiseStaysFloat32() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(12);
            VariationalDequantizer dq = perturbed(new VariationalDequantizer(3, SPEC, Init.float32()));
            Tensor c = centred(13, ScalarType.Float, 8, 2, 3, 8, 8);
            torch.manual_seed(14);
            Tensor e = dq.drawNoise(Tensors.shape(c), c);
            Dequantizer.Dequantized fp32 = dq.dequantize(c, e, 256);
            dq.precision(Precision.BF16_MIXED);
            Dequantizer.Dequantized bf16 = dq.dequantize(c, e, 256);
            assertThat(Tensors.dtype(bf16.x())).isEqualTo(ScalarType.Float);
            assertThat(Tensors.dtype(bf16.logQ())).isEqualTo(ScalarType.Float);
            assertThat(Tensors.dtype(dq.context(c))).as("features cast back").isEqualTo(ScalarType.Float);
            assertThat(torch.equal(fp32.x(), bf16.x())).as("the networks did run in bf16").isFalse();
            assertThat(bf16.x().sub(fp32.x()).abs().max().item_double()).isLessThan(0.02 / 256);
            double[] a = Tensors.toDoubles(fp32.logQ()), b = Tensors.toDoubles(bf16.logQ());
            for (int i = 0; i < a.length; i++) assertThat(b[i]).isCloseTo(a[i], within(0.02 * 192));
        }
    }
}
