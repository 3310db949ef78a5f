package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;
import woodflow.model.MultiScaleFlow;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The moving average of the weights ({@code train.ema}): what it computes, what checkpoints hold, exact resumes. */
class WeightAverageTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static RunConfig run(int iterations, double ema, Backprop backprop) {
        RunConfig tiny = TestData.tinyRun(iterations, 10);
        return tiny.withTrain(tiny.train().toBuilder().backprop(backprop).ema(ema).build());
    }

    private static Trainer.Result train(RunConfig cfg, Path dir, boolean resume) throws Exception {
        return TestData.train(cfg, dir, resume, null);
    }

    private static Checkpoint at(Path dir, int iteration) throws Exception {
        return Checkpoint.read(new CheckpointStore(dir, 1).pathFor(iteration));
    }

    private static void assertIdentical(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (var e : a.entrySet()) {
            assertThat(torchEqual(e.getValue(), b.get(e.getKey()))).as(e.getKey() + " bit for bit").isTrue();
        }
    }

    private static boolean torchEqual(Tensor a, Tensor b) {
        return org.bytedeco.pytorch.global.torch.equal(a, b);
    }

    @Test
    void theAverageFollowsItsFormula() {
        MultiScaleFlow m = new MultiScaleFlow(TestData.tinyRun(1, 1).model(), woodflow.core.Init.float32());
        WeightAverage avg = new WeightAverage(m, 0.99, "cpu");
        assertThat(avg.decayAt(1)).isEqualTo(2.0 / 11);
        assertThat(avg.decayAt(10_000)).isEqualTo(0.99);
        String name = m.namedParameters().keySet().iterator().next();
        Tensor p = m.namedParameters().get(name);
        double before = p.flatten().select(0, 0).item_double();
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            p.add_(Tensors.s(1.0));
        }
        avg.update(1);
        double expected = (2.0 / 11) * before + (9.0 / 11) * (before + 1);
        assertThat(avg.state().get(WeightAverage.PREFIX + name).flatten().select(0, 0).item_double())
                .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6));
        assertThatThrownBy(() -> new WeightAverage(m, 1.0, "cpu")).hasMessageContaining("train.ema must be a decay in (0, 1)");
    }

    @Test
    void aResumedRunHoldsTheSameWeightsAndAverageBitForBit(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        train(run(20, 0.9, Backprop.STANDARD), a, false);
        train(run(10, 0.9, Backprop.STANDARD), b, false); // "killed" after its checkpoint at 10
        train(run(20, 0.9, Backprop.STANDARD), b, true);
        Checkpoint ca = at(a, 20), cb = at(b, 20);
        assertThat(ca.hasAverage()).isTrue();
        assertThat(ca.tensors().keySet()).anyMatch(k -> k.startsWith("ema.level0."));
        assertIdentical(ca.tensors(), cb.tensors());
        // evaluation used the average: the raw and the averaged weights differ, and the checkpoint's default is ema
        assertThat(ca.defaultWeights()).isEqualTo(Weights.EMA);
        Map<String, Tensor> raw = ca.modelState(Weights.RAW), ema = ca.modelState(Weights.EMA);
        assertThat(raw.keySet()).isEqualTo(ema.keySet());
        assertThat(raw.keySet().stream().anyMatch(k -> !torchEqual(raw.get(k), ema.get(k)))).isTrue();
        assertThat(ema.get("level0.step0.actnorm.initialised").item_double()).isEqualTo(1.0);
    }

    @Test
    void theAverageLeavesTrainingUnchangedAlsoThroughInverses(@TempDir Path dir) throws Exception {
        train(run(10, 0, Backprop.INVERTIBLE), dir.resolve("off"), false);
        train(run(10, 0.95, Backprop.INVERTIBLE), dir.resolve("on"), false);
        Checkpoint off = at(dir.resolve("off"), 10), on = at(dir.resolve("on"), 10);
        assertThat(off.hasAverage()).isFalse();
        assertThat(on.hasAverage()).isTrue();
        assertIdentical(off.modelState(), on.modelState());
        assertThatThrownBy(() -> off.modelState(Weights.EMA)).hasMessageContaining("holds no averaged weights")
                .hasMessageContaining("--weights raw");
        // the averaged model the checkpoint builds evaluates to the test bpd the run recorded for it
        MultiScaleFlow averaged = on.model("cpu", Weights.EMA);
        double bpd = Evaluator.meanBitsPerDim(averaged, TestData.squares(16, 2), 16, 8, 100, 4321L);
        double recorded = MetricsLog.read(dir.resolve("on/metrics.jsonl")).stream()
                .filter(n -> n.has("test_bpd") && n.get("iteration").asLong() == 10).findFirst().orElseThrow()
                .get("test_bpd").asDouble();
        assertThat(bpd).isEqualTo(recorded);
    }

    @Test
    void aRunResumedWithTheAverageTurnedOnStartsItFromTheCheckpoint(@TempDir Path dir) throws Exception {
        train(run(10, 0, Backprop.STANDARD), dir, false);
        train(run(20, 0.9, Backprop.STANDARD), dir, true);
        assertThat(at(dir, 20).hasAverage()).isTrue();
    }
}
