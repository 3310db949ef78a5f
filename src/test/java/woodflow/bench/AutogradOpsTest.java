package woodflow.bench;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import woodflow.core.Init;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.nn.Bf16Kernels;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Presets;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operation budget of a training step (config a, the yardstick's 1x32x32 K=4 L=2 model), counted on the
 * autograd graph: 852 nodes in fp32 and 911 in bf16-mixed before the Woodbury kernels, the stacked log-dets and
 * the fused autocast cast. Emulated bf16 convolutions ({@link Bf16Kernels#EMULATED}, a CPU without bf16 dot products)
 * add four casts per convolution (the weight and bias rounded to bf16 and back, the input widened). The split priors'
 * NCHW convolutions add three layout copies since they run channels-last ({@link woodflow.nn.Conv#fast}: oneDNN's
 * NCHW kernels were wrong on an AMD Zen 5). A change that adds
 * operations to every step shows here before it shows in a timing.
 */
class AutogradOpsTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @ParameterizedTest
    @CsvSource({"fp32, native, 670", "bf16-mixed, native, 721", "bf16-mixed, emulated, 821"})
    void aTrainingStepOfConfigAStaysWithinItsBudget(String precision, String bf16Kernels, int budget) {
        Bf16Kernels was = Bf16Kernels.use(Bf16Kernels.valueOf(bf16Kernels.toUpperCase(java.util.Locale.ROOT)));
        try {
            countWithin(precision, budget);
        } finally {
            Bf16Kernels.use(was);
        }
    }

    private static void countWithin(String precision, int budget) {
        torch.manual_seed(0);
        MultiScaleFlow model = new MultiScaleFlow(Presets.load("yardstick-a").model(), Init.float32());
        model.precision(Precision.parse(precision));
        Tensor x = torch.rand(new long[] {32, 1, 32, 32}).sub(Tensors.s(0.5));
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            model.bitsPerDim(x, 256); // ActNorm's initialisation, as a run's first batch
        }
        Map<String, Integer> ops = AutogradOps.count(model.bitsPerDim(x, 256).mean());
        assertThat(AutogradOps.total(ops)).isLessThanOrEqualTo(budget);
        assertThat(ops.get("torch::autograd::AccumulateGrad")).isEqualTo(model.parameters().size());
        // the Woodbury maps run as bmm / baddbmm / addmm: no transposed copies around a folded matmul
        assertThat(ops).doesNotContainKeys("TransposeBackward0", "TBackward0");
        assertThat(ops.get("LinalgSlogdetBackward0")).isEqualTo(8); // one batched determinant per Woodbury layer
    }
}
