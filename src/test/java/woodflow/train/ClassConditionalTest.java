package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.data.ShapeSource;
import woodflow.model.Conditioning;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.Sampler;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static woodflow.core.Tensors.s;

/** Class-conditional models: labels from the data into training, evaluation, sampling and the checkpoint. */
class ClassConditionalTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static final List<String> KINDS = List.of("disc", "square", "ring");

    static RunConfig run(int iterations, double classLossWeight, Backprop backprop) {
        RunConfig tiny = TestData.tinyRun(iterations, 10);
        return tiny.withModel(tiny.model().withClasses(Conditioning.CLASS, null, classLossWeight))
                .withTrain(tiny.train().toBuilder().backprop(backprop).build());
    }

    static ShapeSource shapes(int n, long first) {
        return new ShapeSource(n, 1, 8, 0, first);
    }

    @Test
    void trainingTakesTheClassesFromTheDataAndTheCheckpointCarriesThem(@TempDir Path dir) throws Exception {
        Trainer t = new Trainer(run(20, 0.01, Backprop.STANDARD), dir, shapes(64, 0), shapes(32, 64), null, true);
        Trainer.Result r = t.run(false);
        t.finish();
        assertThat(r.testBpd()).isFinite();
        assertThat(Files.readString(dir.resolve("config.yaml"))).contains("conditional: \"class\"")
                .contains("- \"disc\"").contains("- \"ring\"");
        Checkpoint c = Checkpoint.read(dir.resolve("checkpoints/ckpt-00000020.safetensors"));
        assertThat(c.config().model().classes()).isEqualTo(KINDS);
        MultiScaleFlow m = c.model();
        assertThat(m.classes()).isEqualTo(KINDS);
        // the class embeddings trained: the three classes' prior means differ
        Tensor top = c.modelState().get("top.classes.weight");
        assertThat(top.size(0)).isEqualTo(3);
        assertThat(top.abs().max().item_double()).isGreaterThan(0);
        // evaluation is conditional on the true class: the recorded test bpd is the checkpoint's, given the labels
        double bpd = Evaluator.meanBitsPerDim(m, shapes(32, 64), 32, 8, 100, 4321L);
        assertThat(bpd).isEqualTo(r.testBpd());
        // and a wrong class costs bits
        double[] right = Evaluator.bitsPerDim(m, shapes(32, 64), 32, 8, 100, 4321L);
        assertThat(right).hasSize(32);
        // sampling a class: the same noise, another class, another image
        Tensor a = Sampler.sample(m, 4, 0.7, 8, 5, Sampler.fill(4, 0));
        Tensor b = Sampler.sample(m, 4, 0.7, 8, 5, Sampler.fill(4, 2));
        assertThat(torch.equal(a, b)).isFalse();
        assertThatThrownBy(() -> Sampler.sample(m, 4, 0.7, 8, 5, null)).hasMessageContaining("class-conditional");
        // reconstructions are exact for any class
        List<byte[]> pairs = Sampler.reconstructions(m, woodflow.data.Quantization.stack(
                List.of(shapes(2, 64).image(0), shapes(2, 64).image(1)), 1, 8, 8), 8, new int[] {2, 0});
        assertThat(pairs.get(2)).isEqualTo(pairs.get(0));
        assertThat(pairs.get(3)).isEqualTo(pairs.get(1));
    }

    @Test
    void dataWithoutLabelsOrWithOtherClassesIsRefusedWithTheReason(@TempDir Path dir) {
        assertThatThrownBy(() -> new Trainer(run(5, 0, Backprop.STANDARD), dir, TestData.squares(16, 1),
                TestData.squares(8, 2), null, true))
                .hasMessageContaining("model.conditional: class needs the images' classes")
                .hasMessageContaining("has no labels").hasMessageContaining("squares");
        RunConfig named = run(5, 0, Backprop.STANDARD);
        RunConfig other = named.withModel(named.model().withClasses(Conditioning.CLASS, List.of("a", "b", "c"), 0));
        assertThatThrownBy(() -> new Trainer(other, dir, shapes(16, 0), shapes(8, 16), null, true))
                .hasMessageContaining("model.classes (a, b, c) are not the classes of the training data (disc, "
                        + "square, ring)");
        ModelConfig m = run(5, 0, Backprop.STANDARD).model();
        assertThatThrownBy(() -> new MultiScaleFlow(m, Init.float32())).hasMessageContaining("needs model.classes");
        assertThatThrownBy(() -> m.withClasses(Conditioning.NONE, null, 0.5).validate())
                .hasMessageContaining("class_loss_weight needs model.conditional: class");
    }

    @Test
    void gradientsThroughInversesEqualTheStandardOnesWithTheClassLoss() {
        try (PointerScope scope = new PointerScope()) {
            ModelConfig cfg = TestData.tinyRun(1, 1).model().withClasses(Conditioning.CLASS, KINDS, 0.5);
            torch.manual_seed(3);
            MultiScaleFlow model = new MultiScaleFlow(cfg, Init.float64());
            Tensor x = torch.rand(new long[] {4, 1, 8, 8}, Tensors.options(torch.ScalarType.Double)).sub(s(0.5));
            int[] y = {0, 2, 1, 2};
            try (var c = model.conditionedOn(y)) {
                model.bitsPerDim(x, 256); // ActNorm's initialisation
            }
            try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
                for (Tensor p : model.parameters()) p.add_(torch.randn_like(p).mul(s(0.05)));
            }
            double standard;
            try (var c = model.conditionedOn(y)) {
                MultiScaleFlow.Objective o = model.objective(x, 256);
                o.loss().mean().backward();
                standard = o.bitsPerDim().mean().item_double();
            }
            var names = model.namedParameters();
            java.util.Map<String, Tensor> expected = new java.util.LinkedHashMap<>();
            names.forEach((k, p) -> {
                expected.put(k, p.grad().clone());
                p.grad().zero_();
            });
            assertThat(expected.get("classifier.weight").abs().max().item_double()).isGreaterThan(0);
            double inverse;
            try (var c = model.conditionedOn(y)) {
                inverse = new InvertibleBackprop(model).backward(x, 256).loss();
            }
            assertThat(inverse).isCloseTo(standard, org.assertj.core.data.Offset.offset(1e-10));
            names.forEach((k, p) -> assertThat(p.grad().sub(expected.get(k)).abs().max().item_double())
                    .as(k).isLessThan(1e-8 * Math.max(1, expected.get(k).abs().max().item_double())));
        }
    }

    @Test
    void aResumedConditionalRunThroughInversesContinuesBitForBit(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Trainer first = new Trainer(run(20, 0.01, Backprop.INVERTIBLE), a, shapes(64, 0), shapes(16, 64), null, true);
        first.run(false);
        first.finish();
        LrScheduleTest.copy(a, b); // the same run "killed" after its checkpoint at iteration 10
        Files.delete(b.resolve("checkpoints/ckpt-00000020.safetensors"));
        Trainer t = new Trainer(run(20, 0.01, Backprop.INVERTIBLE), b, shapes(64, 0), shapes(16, 64), null, true);
        t.run(true);
        var ta = Checkpoint.read(a.resolve("checkpoints/ckpt-00000020.safetensors")).tensors();
        var tb = Checkpoint.read(b.resolve("checkpoints/ckpt-00000020.safetensors")).tensors();
        for (var e : ta.entrySet()) assertThat(torch.equal(e.getValue(), tb.get(e.getKey()))).as(e.getKey()).isTrue();
    }
}
