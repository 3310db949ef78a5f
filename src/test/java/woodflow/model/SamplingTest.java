package woodflow.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.contract.ContractCases;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.layers.Squeeze;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static woodflow.core.Tensors.s;

/** Sampling at a temperature (docs/FORMULAS.md): latents are mean + exp(logs) * T * eps at every level. */
class SamplingTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void temperatureZeroSampleIsTheDecodeOfThePriorMeans() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(1);
            MultiScaleFlow model = new MultiScaleFlow(ContractCases.tiny("woodbury", 2, 2), Init.float64());
            model.encode(torch.randn(new long[] {4, 2, 8, 8}, Tensors.options(torch.ScalarType.Double)));
            for (Tensor p : model.parameters()) p.add_(torch.randn_like(p).mul(s(0.05)));
            model.train(false);
            Tensor sample = model.sample(2, 0.0);
            // walk down by hand: the top prior's mean, then each split's mean given the level above
            Tensor h = model.top().inverse(torch.zeros(new long[] {2, 16, 2, 2},
                    Tensors.options(torch.ScalarType.Double))).out();
            Squeeze sq = new Squeeze();
            for (int l = model.levels().size() - 1; l >= 0; l--) {
                MultiScaleFlow.Level level = model.levels().get(l);
                if (level.split() != null) h = Tensors.cat(1, h, level.split().meanLogStd(h)[0]);
                for (int k = level.steps().size() - 1; k >= 0; k--) h = level.steps().get(k).inverse(h).out();
                h = sq.inverse(h).out();
            }
            assertThat(sample.sub(h).abs().max().item_double()).isLessThan(1e-12);
            // and a positive temperature differs from it
            assertThat(model.sample(2, 0.7).sub(h).abs().max().item_double()).isGreaterThan(1e-3);
        }
    }

    @Test
    void badTemperaturesAreRejected() {
        MultiScaleFlow model = new MultiScaleFlow(ContractCases.tiny("woodbury", 2, 1), Init.float32());
        for (double t : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> model.sample(2, t)).hasMessageContaining("temperature must be a finite number");
        }
    }
}
