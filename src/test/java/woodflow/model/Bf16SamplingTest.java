package woodflow.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Init;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.sample.Sampler;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.core.Tensors.s;

/**
 * How exact the inverse stays when the conditioner networks run in bf16 (bf16-mixed), against float32, on six
 * Woodbury-Glow models (3x16x16, two levels of three steps, 64 channels) with perturbed parameters, on this CPU's bf16
 * path (native kernels or emulated). The bounds, in the units of the model's input ([-0.5, 0.5), an 8-bit level being
 * 1/256 = 0.0039):
 * <ul>
 *   <li><b>decode(encode(x))</b>: float32 within 1e-5 everywhere. bf16-mixed within 2e-4 on average and 0.05 at
 *       most, with at most 2% of the values off by more than half an 8-bit level. Not float32's exactness: the
 *       coupling's inverse recomputes its network on its input as rebuilt by the layers after it, which differs from
 *       the forward's by float32 rounding, and a value within that rounding of a bf16 rounding boundary goes into the
 *       network one bf16 step (0.4%) away, which moves the network's outputs by about 1e-3. Measured here (Intel Xeon,
 *       AMX, native bf16 kernels): float32 at most 1.7e-6; bf16 in five of the six models at most 1.4e-3 with no
 *       value beyond half a level (mean at most 2.1e-6), in the sixth (perturbation 0.03, seed 13) at most 0.012 with
 *       0.85% beyond half a level (mean 5.3e-5).</li>
 *   <li><b>Samples</b> at T = 0.7 from the same latents: re-encoded in bf16-mixed they give their latents back within
 *       1e-4 on average and 0.05 at most (measured at most 0.012, latents being N(0, T^2)); their bits per dimension
 *       under the float32 path are within 1e-3 of the float32 samples' (measured at most 9e-5); and as 8-bit images
 *       (the dashboard's sampler) at most 2% of their pixels are more than one level from the float32 samples' and
 *       none more than 12 (measured at most 1.1% and 5).</li>
 * </ul>
 */
class Bf16SamplingTest {
    private static final long[] SEEDS = {11, 12, 13};
    private static final double[] PERTURBATIONS = {0.02, 0.03};

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static MultiScaleFlow model(double perturbation, long seed) {
        torch.manual_seed(seed);
        ModelConfig cfg = ModelConfig.of(3, 16, 16, 2, 3, 64, Permutation.parse("woodbury"))
                .withLatentDims(new int[] {8, 8}, new int[] {16, 16}, new int[] {4, 4}, new int[] {4, 4});
        MultiScaleFlow m = new MultiScaleFlow(cfg, Init.float32());
        try (NoGradGuard g = new NoGradGuard()) {
            m.encode(torch.rand(new long[] {16, 3, 16, 16}).sub(s(0.5)));
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(perturbation)));
        }
        m.train(false);
        return m;
    }

    @Test
    void theRoundTripInBf16StaysWithinItsBounds() {
        for (long seed : SEEDS) {
            for (double perturbation : PERTURBATIONS) {
                try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                    MultiScaleFlow m = model(perturbation, seed);
                    torch.manual_seed(seed + 100);
                    Tensor x = torch.rand(new long[] {16, 3, 16, 16}).sub(s(0.5));
                    String what = "model " + seed + ", perturbation " + perturbation;
                    m.precision(Precision.FP32);
                    Tensor err32 = m.decode(m.encode(x).latents()).sub(x).abs();
                    assertThat(err32.max().item_double()).as(what + ", fp32 max").isLessThan(1e-5);
                    m.precision(Precision.BF16_MIXED);
                    Tensor err16 = m.decode(m.encode(x).latents()).sub(x).abs();
                    assertThat(err16.mean().item_double()).as(what + ", bf16 mean").isLessThan(2e-4);
                    assertThat(err16.max().item_double()).as(what + ", bf16 max").isLessThan(0.05);
                    assertThat(err16.gt(s(0.5 / 256)).to(torch.ScalarType.Float).mean().item_double())
                            .as(what + ", bf16 share beyond half an 8-bit level").isLessThanOrEqualTo(0.02);
                }
            }
        }
    }

    @Test
    void bf16SamplesReencodeToTheirLatentsAndScoreAsFp32Samples() {
        for (long seed : SEEDS) {
            for (double perturbation : PERTURBATIONS) {
                try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                    MultiScaleFlow m = model(perturbation, seed);
                    String what = "model " + seed + ", perturbation " + perturbation;
                    torch.manual_seed(seed + 200);
                    List<Tensor> z = m.drawLatents(16, 0.7, m.parameters().get(0));
                    m.precision(Precision.FP32);
                    Tensor fp32 = m.decode(z);
                    m.precision(Precision.BF16_MIXED);
                    Tensor bf16 = m.decode(z);
                    List<Tensor> back = m.encode(bf16).latents();
                    for (int l = 0; l < z.size(); l++) {
                        Tensor e = back.get(l).sub(z.get(l)).abs();
                        assertThat(e.mean().item_double()).as(what + ", latent " + l + " mean").isLessThan(1e-4);
                        assertThat(e.max().item_double()).as(what + ", latent " + l + " max").isLessThan(0.05);
                    }
                    m.precision(Precision.FP32);
                    double bpd32 = m.bitsPerDim(fp32, 256).mean().item_double();
                    double bpd16 = m.bitsPerDim(bf16, 256).mean().item_double();
                    assertThat(Math.abs(bpd16 - bpd32)).as(what + ", bpd of the samples").isLessThan(1e-3);
                }
            }
        }
    }

    @Test
    void theSamplersBf16PixelsAreTheFp32Ones() {
        for (long seed : SEEDS) {
            try (PointerScope scope = new PointerScope()) {
                MultiScaleFlow m = model(0.03, seed);
                m.precision(Precision.FP32);
                Tensor p32 = Sampler.sample(m, 64, 0.7, 8, seed).to(torch.ScalarType.Int);
                m.precision(Precision.BF16_MIXED);
                Tensor p16 = Sampler.sample(m, 64, 0.7, 8, seed).to(torch.ScalarType.Int);
                Tensor d = p16.sub(p32).abs();
                assertThat(d.gt(s(1)).to(torch.ScalarType.Float).mean().item_double())
                        .as("model %d: share of pixels more than one level apart", seed).isLessThanOrEqualTo(0.02);
                assertThat(d.max().item_int()).as("model %d: largest difference in levels", seed).isLessThanOrEqualTo(12);
            }
        }
    }
}
