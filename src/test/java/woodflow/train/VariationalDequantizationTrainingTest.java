package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.contract.ContractCases;
import woodflow.core.Init;
import woodflow.core.Precision;
import woodflow.core.Tensors;
import woodflow.data.DataConfig;
import woodflow.data.Dequantization;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;
import woodflow.model.VariationalDequantizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static woodflow.core.Tensors.s;

/**
 * A run with {@code data.dequantization: variational}: the dequantiser trains with the flow (fp32 and bf16-mixed, standard
 * backprop and through inverses) with no skipped step, the checkpoint carries it and its Adam moments (and, with
 * train.ema, its average), a resumed run is the uninterrupted one bit for bit, and backprop through inverses gives the standard path's gradients, the
 * dequantiser's included.
 */
class VariationalDequantizationTrainingTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static RunConfig variational(int iterations, int evalEvery, Precision precision, Backprop backprop) {
        RunConfig tiny = TestData.tinyRun(iterations, evalEvery);
        DataConfig d = tiny.data().toBuilder().dequantization(Dequantization.VARIATIONAL).dequantizerSteps(2)
                .dequantizerHidden(8).build();
        return tiny.withData(d).withTrain(tiny.train().toBuilder().precision(precision).backprop(backprop).build());
    }

    private static Trainer.Result train(RunConfig cfg, Path dir, boolean resume) throws Exception {
        return TestData.train(cfg, dir, resume);
    }

    @Test
    void trainsWithNoSkippedStepInFp32AndBf16MixedStandardAndThroughInverses(@TempDir Path dir) throws Exception {
        // fp32 through inverses is covered by the exact gradient comparison below
        Object[][] runs = {{Precision.FP32, Backprop.STANDARD}, {Precision.BF16_MIXED, Backprop.STANDARD},
                {Precision.BF16_MIXED, Backprop.INVERTIBLE}};
        for (Object[] r : runs) {
            Precision p = (Precision) r[0];
            Backprop b = (Backprop) r[1];
            Path run = dir.resolve(p + "-" + b);
            Trainer.Result result = train(variational(30, 15, p, b), run, false);
            String what = p + ", " + b + " backprop";
            assertThat(result.skippedSteps()).as(what + ": skipped steps").isZero();
            double first = MetricsLog.read(run.resolve("metrics.jsonl")).stream().filter(n -> n.has("test_bpd"))
                    .findFirst().orElseThrow().get("test_bpd").asDouble();
            assertThat(result.bestTestBpd()).as(what + ": test bpd falls").isLessThan(first - 0.3);
            Checkpoint c = Checkpoint.read(run.resolve("checkpoints/ckpt-00000030.safetensors"));
            assertThat(c.tensors().keySet()).as(what).contains("model.dequantizer.base_logs",
                    "model.dequantizer.step1.out.weight", "adam.m.dequantizer.context.conv1.weight");
            // the dequantiser trained: its last layer left zero, its base scale left ln 1.6
            Tensor out = c.tensors().get("model.dequantizer.step0.out.weight");
            assertThat(out.abs().max().item_double()).as(what + ": dequantiser's output layer").isGreaterThan(1e-3);
            MultiScaleFlow model = c.model();
            assertThat(model.variationalDequantizer()).isNotNull();
            assertThat(model.variationalDequantizer().spec()).isEqualTo(new VariationalDequantizer.Spec(2, 8));
        }
    }

    /** With a moving average of the weights, which averages the dequantiser's too (train.ema). */
    static RunConfig averaged(int iterations, int evalEvery) {
        RunConfig c = variational(iterations, evalEvery, Precision.FP32, Backprop.STANDARD);
        return c.withTrain(c.train().toBuilder().ema(0.99).build());
    }

    @Test
    void aResumedRunIsTheUninterruptedOneBitForBit(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        train(averaged(16, 8), a, false);
        train(averaged(8, 8), b, false);
        train(averaged(16, 8), b, true);
        Checkpoint ca = Checkpoint.read(a.resolve("checkpoints/ckpt-00000016.safetensors"));
        Checkpoint cb = Checkpoint.read(b.resolve("checkpoints/ckpt-00000016.safetensors"));
        assertThat(ca.tensors().keySet()).contains("ema.dequantizer.base_logs", "ema.level0.step0.coupling.net.conv1");
        assertThat(ca.model("cpu", Weights.EMA).variationalDequantizer()).isNotNull();
        assertThat(cb.tensors().keySet()).isEqualTo(ca.tensors().keySet());
        for (Map.Entry<String, Tensor> e : ca.tensors().entrySet()) {
            assertThat(torch.equal(e.getValue(), cb.tensors().get(e.getKey()))).as(e.getKey()).isTrue();
        }
    }

    @Test
    void aCheckpointOfOneDequantisationDoesNotResumeWithTheOther(@TempDir Path dir) throws Exception {
        train(variational(4, 4, Precision.FP32, Backprop.STANDARD), dir, false);
        RunConfig uniform = TestData.tinyRun(8, 4);
        assertThatThrownBy(() -> train(uniform, dir, true))
                .hasMessageContaining("data.dequantization is variational (2 steps, 8 channels) in the checkpoint, uniform in");
    }

    @Test
    void aDequantiserSizeWithUniformNoiseIsRefusedNamingTheKey() {
        RunConfig tiny = TestData.tinyRun(4, 4);
        RunConfig bad = tiny.withData(tiny.data().toBuilder().dequantizerSteps(3).build());
        assertThatThrownBy(bad::validate).hasMessageContaining("data.dequantizer_steps")
                .hasMessageContaining("set data.dequantization: variational");
        RunConfig zero = tiny.withData(tiny.data().toBuilder().dequantization(Dequantization.VARIATIONAL)
                .dequantizerHidden(0).build());
        assertThatThrownBy(zero::validate).hasMessageContaining("data.dequantizer_hidden must be at least 1, got 0");
        assertThatThrownBy(() -> RunConfig.fromJson("{\"data\": {\"dequantization\": \"variatonal\"}}"))
                .hasMessageContaining("did you mean variational");
    }

    /**
     * Through inverses, the flow's gradient reaches the dequantiser through the gradient at x~ and the surrogate
     * {@code sum(x~ g) + mean(log q) / (D ln 2)}: the loss and every parameter's gradient equal the standard path's, in
     * float64, to 1e-8 relative per parameter.
     */
    @Test
    void throughInversesTheGradientsAreTheStandardPathsDequantiserIncluded() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(21);
            MultiScaleFlow model = new MultiScaleFlow(ContractCases.tiny("woodbury", 2, 2),
                    new VariationalDequantizer.Spec(2, 6), Init.float64());
            Tensor images = torch.randint(0, 256, new long[] {3, 2, 8, 8}).to(torch.ScalarType.Byte);
            try (NoGradGuard g = new NoGradGuard()) {
                model.encode(Quantization.centred(images, 8).to(torch.ScalarType.Double)); // ActNorm's init
                for (Tensor p : model.parameters()) p.add_(torch.randn_like(p).mul(s(0.05)));
            }
            Map<String, Double> loss = new LinkedHashMap<>();
            List<Map<String, Tensor>> grads = new ArrayList<>();
            for (Backprop b : new Backprop[] {Backprop.STANDARD, Backprop.INVERTIBLE}) {
                TrainConfig tc = TrainConfig.defaults().toBuilder().batch(3).seed(5L).backprop(b).build();
                Adam adam = new Adam(model.namedParameters(), 0.9, 0.999, 1e-8, 0);
                TrainStep step = new TrainStep(model, adam, tc, 8);
                loss.put(b.label(), step.lossAndGradient(images, 7));
                Map<String, Tensor> g = new LinkedHashMap<>();
                model.namedParameters().forEach((k, p) -> g.put(k, p.grad().clone()));
                grads.add(g);
            }
            assertThat(loss.get("invertible")).isCloseTo(loss.get("standard"),
                    org.assertj.core.data.Offset.offset(1e-10 * Math.abs(loss.get("standard"))));
            List<String> bad = new ArrayList<>();
            for (String k : grads.get(0).keySet()) {
                Tensor a = grads.get(0).get(k), b = grads.get(1).get(k);
                double err = a.sub(b).norm().item_double() / Math.max(a.norm().item_double(), 1e-30);
                if (!(err < 1e-8)) bad.add(k + ": " + err);
            }
            assertThat(grads.get(0).keySet()).anyMatch(k -> k.startsWith("dequantizer."));
            assertThat(grads.get(0).get("dequantizer.base_logs").norm().item_double()).isGreaterThan(0);
            assertThat(bad).as("parameters whose gradients differ").isEmpty();
        }
    }
}
