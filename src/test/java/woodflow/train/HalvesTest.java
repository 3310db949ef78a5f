package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.contract.ContractCases;
import woodflow.core.Halves;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static woodflow.core.Tensors.s;

/**
 * A step run as two batch halves on two threads computes the whole batch's loss and gradient: to 1e-12 (relative)
 * in float64, where only the order of the sums over the batch differs; and it is deterministic: in float32 two runs
 * give the same gradient bit for bit, whichever half finishes first.
 */
class HalvesTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static TrainStep step(Init init, long seed) {
        torch.manual_seed(seed);
        MultiScaleFlow m = new MultiScaleFlow(ContractCases.tiny("woodbury", 2, 2), init);
        torch.manual_seed(seed + 1);
        Tensor x = torch.rand(new long[] {6, 2, 8, 8}, init.options()).sub(s(0.5));
        try (NoGradGuard g = new NoGradGuard()) {
            m.encode(x); // ActNorm's initialisation
            for (Tensor p : m.parameters()) p.add_(torch.randn(Tensors.shape(p), Tensors.optionsLike(p)).mul(s(0.05)));
        }
        Adam adam = new Adam(m.namedParameters(), 0.9, 0.999, 1e-8, 0);
        return new TrainStep(m, adam, TrainConfig.defaults(), 5);
    }

    private static Tensor batch(Init init) {
        torch.manual_seed(7);
        return torch.rand(new long[] {6, 2, 8, 8}, init.options()).sub(s(0.5));
    }

    private static List<double[]> grads(TrainStep step, Tensor x, double[] loss) {
        loss[0] = step.gradients(x);
        List<double[]> out = new ArrayList<>();
        for (Tensor p : step.model().parameters()) out.add(Tensors.toDoubles(p.grad()));
        return out;
    }

    @Test
    void halvesGiveTheWholeBatchsGradientInFloat64() {
        try (PointerScope scope = new PointerScope()) {
            TrainStep step = step(Init.float64(), 1);
            Tensor x = batch(Init.float64());
            double[] whole = new double[1], halves = new double[1];
            List<double[]> g = grads(step.halves(null), x, whole);
            List<double[]> h = grads(step.halves(Halves.choose("on", 2)), x, halves);
            assertThat(halves[0]).isCloseTo(whole[0], org.assertj.core.data.Offset.offset(1e-12 * Math.abs(whole[0])));
            for (int i = 0; i < g.size(); i++) {
                double diff = 0, norm = 0;
                for (int j = 0; j < g.get(i).length; j++) {
                    diff += Math.pow(g.get(i)[j] - h.get(i)[j], 2);
                    norm += g.get(i)[j] * g.get(i)[j];
                }
                assertThat(Math.sqrt(diff)).as("parameter %d", i).isLessThanOrEqualTo(1e-12 * Math.sqrt(norm) + 1e-300);
            }
        }
    }

    @Test
    void halvesAreDeterministicInFloat32() {
        try (PointerScope scope = new PointerScope()) {
            TrainStep step = step(Init.float32(), 2).halves(Halves.choose("on", 2));
            Tensor x = batch(Init.float32());
            double[] l1 = new double[1], l2 = new double[1];
            List<double[]> a = grads(step, x, l1);
            for (int round = 0; round < 5; round++) {
                List<double[]> b = grads(step, x, l2);
                assertThat(l2[0]).isEqualTo(l1[0]);
                for (int i = 0; i < a.size(); i++) assertThat(b.get(i)).as("parameter %d", i).containsExactly(a.get(i));
            }
        }
    }

    /**
     * In bf16-mixed, steps on the halves' threads see the weights the last update wrote: autocast's cache of bf16
     * weight copies (per thread, on by default off the main thread) would otherwise serve stale ones from the second
     * step on. Two steps with halves match two steps without, to bf16's rounding.
     */
    @Test
    void bf16StepsOnTheHalvesThreadsSeeTheUpdatedWeights() {
        try (PointerScope scope = new PointerScope()) {
            double[][] losses = new double[2][3];
            for (int run = 0; run < 2; run++) {
                TrainStep step = step(Init.float32(), 3);
                step.model().precision(woodflow.core.Precision.BF16_MIXED);
                step.halves(run == 0 ? null : Halves.choose("on", 2));
                Tensor x = batch(Init.float32());
                for (int i = 0; i < 3; i++) losses[run][i] = step.runDequantized(x, 0.01);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(losses[1][i]).as("step %d", i + 1).isCloseTo(losses[0][i],
                        org.assertj.core.data.Offset.offset(1e-3 * Math.abs(losses[0][i])));
            }
            // the steps moved the model: a stale weight would show from the second step on
            assertThat(Math.abs(losses[0][2] - losses[0][0])).isGreaterThan(1e-2 * Math.abs(losses[0][0]));
        }
    }

    @Test
    void theChoiceFollowsTheThreadsAndTheOverride() {
        assertThat(Halves.choose(null, 1)).isNull();
        assertThat(Halves.choose(null, 2)).isNotNull();
        assertThat(Halves.choose("off", 2)).isNull();
        assertThat(Halves.choose(" ON ", 4).describe()).isEqualTo("two batch halves on two threads, 2 libtorch threads each");
        assertThat(Halves.choose("on", 1)).isNull();
        assertThatThrownBy(() -> Halves.choose("2", 2)).hasMessage(Halves.ENV + "=2 is not a choice: use on (two batch "
                + "halves on two threads, the default with two or more threads) or off (the whole batch, intra-op "
                + "threads), or unset it");
    }
}
