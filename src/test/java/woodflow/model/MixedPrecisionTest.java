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

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.core.Tensors.s;

/**
 * bf16-mixed precision: the conditioner networks run in bfloat16, the invertible path stays float32, so sampling
 * and reconstruction stay exactly invertible (to float32 precision), parameters and gradients stay float32, and the
 * likelihood moves only by bf16 rounding of the conditioners' outputs.
 */
class MixedPrecisionTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static MultiScaleFlow model(String perm) {
        torch.manual_seed(5);
        ModelConfig cfg = ModelConfig.of(3, 16, 16, 2, 2, 32, Permutation.parse(perm))
                .withLatentDims(new int[] {4, 4}, new int[] {8, 8}, new int[] {4, 4}, new int[] {4, 4});
        MultiScaleFlow m = new MultiScaleFlow(cfg, Init.float32());
        try (NoGradGuard g = new NoGradGuard()) {
            m.encode(torch.rand(new long[] {8, 3, 16, 16}).sub(s(0.5)));
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(0.02)));
        }
        return m;
    }

    @Test
    void reconstructionAndSamplingStayInvertibleInBf16Mixed() {
        for (String perm : new String[] {"woodbury", "me-woodbury"}) {
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                MultiScaleFlow m = model(perm);
                m.train(false);
                Tensor x = torch.rand(new long[] {4, 3, 16, 16}).sub(s(0.5));
                m.precision(Precision.BF16_MIXED);
                MultiScaleFlow.Encoding e = m.encode(x);
                assertThat(Tensors.dtype(e.latents().get(0))).isEqualTo(torch.ScalarType.Float);
                Tensor back = m.decode(e.latents());
                assertThat(back.sub(x).abs().max().item_double()).as(perm + " reconstruction").isLessThan(1e-4);
                Tensor sample = m.sample(4, 0.7);
                Tensor again = m.decode(m.encode(sample).latents());
                double scale = Math.max(1, sample.abs().max().item_double());
                assertThat(again.sub(sample).abs().max().item_double() / scale).as(perm + " sample round trip")
                        .isLessThan(1e-5);
                double bf16 = m.bitsPerDim(x, 256).mean().item_double();
                m.precision(Precision.FP32);
                double fp32 = m.bitsPerDim(x, 256).mean().item_double();
                assertThat(Math.abs(bf16 - fp32)).as(perm + " bpd difference").isLessThan(0.01).isGreaterThan(0);
            }
        }
    }

    @Test
    void parametersAndGradientsStayFloat32() {
        try (PointerScope scope = new PointerScope()) {
            MultiScaleFlow m = model("woodbury");
            m.precision(Precision.BF16_MIXED);
            m.bitsPerDim(torch.rand(new long[] {4, 3, 16, 16}).sub(s(0.5)), 256).mean().backward();
            for (var e : m.namedParameters().entrySet()) {
                assertThat(Tensors.dtype(e.getValue())).as(e.getKey()).isEqualTo(torch.ScalarType.Float);
                assertThat(Tensors.dtype(e.getValue().grad())).as(e.getKey() + " grad").isEqualTo(torch.ScalarType.Float);
            }
        }
    }
}
