package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;
import woodflow.data.ArraySource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainerTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static Trainer.Result train(RunConfig cfg, Path dir, boolean resume) throws Exception {
        return TestData.train(cfg, dir, resume);
    }

    @Test
    void learnsAndWritesTheRunFolder(@TempDir Path dir) throws Exception {
        Trainer.Result r = train(TestData.tinyRun(40, 20), dir, false);
        assertThat(r.iterations()).isEqualTo(40);
        List<JsonNode> m = MetricsLog.read(dir.resolve("metrics.jsonl"));
        double first = m.stream().filter(n -> n.has("test_bpd")).findFirst().orElseThrow().get("test_bpd").asDouble();
        assertThat(r.bestTestBpd()).isLessThan(first);
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertThat(summary.get("iterations").asLong()).isEqualTo(40);
        assertThat(summary.get("best_test_bpd").asDouble()).isEqualTo(r.bestTestBpd());
        assertThat(summary.get("images_per_s").asDouble()).isPositive();
        assertThat(summary.get("test_bpd").asDouble()).isEqualTo(r.testBpd());
        assertThat(Files.exists(dir.resolve("checkpoints/ckpt-00000040.safetensors"))).isTrue();
        assertThat(Files.exists(dir.resolve("checkpoints/best.safetensors"))).isTrue();
        assertThat(Files.exists(dir.resolve("config.yaml"))).isTrue();
        assertThat(Files.list(dir.resolve("samples")).count()).isEqualTo(2);
    }

    @Test
    void resumedRunMatchesAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        train(TestData.tinyRun(20, 10), a, false);
        train(TestData.tinyRun(10, 10), b, false); // "killed" after its checkpoint at 10
        Trainer.Result rb = train(TestData.tinyRun(20, 10), b, true);
        assertThat(rb.iterations()).isEqualTo(20);
        Checkpoint ca = Checkpoint.read(a.resolve("checkpoints/ckpt-00000020.safetensors"));
        Checkpoint cb = Checkpoint.read(b.resolve("checkpoints/ckpt-00000020.safetensors"));
        assertThat(cb.state().iteration()).isEqualTo(ca.state().iteration());
        assertThat(cb.state().adamStep()).isEqualTo(ca.state().adamStep()).isEqualTo(20);
        assertThat(cb.tensors().keySet()).isEqualTo(ca.tensors().keySet());
        assertThat(ca.tensors().keySet()).anyMatch(k -> k.startsWith("adam.v."));
        for (Map.Entry<String, Tensor> e : ca.tensors().entrySet()) {
            double diff = e.getValue().sub(cb.tensors().get(e.getKey())).abs().max().item_double();
            assertThat(diff).as(e.getKey()).isEqualTo(0.0);
        }
        // the metrics file continues: iterations strictly increasing, no duplicates from the resumed part
        List<JsonNode> m = MetricsLog.read(b.resolve("metrics.jsonl"));
        long last = -1;
        for (JsonNode n : m) {
            if (!n.has("train_bpd")) continue;
            assertThat(n.get("iteration").asLong()).isGreaterThan(last);
            last = n.get("iteration").asLong();
        }
        assertThat(last).isEqualTo(20);
    }

    @Test
    void aTimeBudgetStopsEvaluatesAndCheckpointsAndALargerOneContinues(@TempDir Path dir) throws Exception {
        ArraySource train = TestData.squares(64, 1), test = TestData.squares(16, 2);
        Trainer t = new Trainer(TestData.tinyRun(100_000, 1000), dir, train, test, null, true).stopAfterSeconds(0.2);
        Trainer.Result r = t.run(false);
        assertThat(r.iterations()).isBetween(1L, 99_999L);
        assertThat(r.trainSeconds()).isGreaterThanOrEqualTo(0.2);
        assertThat(r.testBpd()).isFinite();
        assertThat(Files.exists(new CheckpointStore(dir, 3).pathFor(r.iterations()))).isTrue();
        double more = r.trainSeconds() + 0.3;
        Trainer.Result r2 = new Trainer(TestData.tinyRun(100_000, 1000), dir, train, test, null, true)
                .stopAfterSeconds(more).run(true);
        assertThat(r2.iterations()).isGreaterThan(r.iterations());
        assertThat(r2.trainSeconds()).isGreaterThanOrEqualTo(more);
    }

    @Test
    void refusesToOverwriteARunWithoutResume(@TempDir Path dir) throws Exception {
        train(TestData.tinyRun(5, 5), dir, false);
        assertThatThrownBy(() -> train(TestData.tinyRun(5, 5), dir, false))
                .hasMessageContaining("already holds checkpoints: pass --resume");
    }

    @Test
    void rejectsImagesOfTheWrongShape(@TempDir Path dir) {
        RunConfig cfg = TestData.tinyRun(5, 5).withModel(TestData.tinyRun(5, 5).model().withShape(3, 8, 8));
        assertThatThrownBy(() -> new Trainer(cfg, dir, TestData.squares(8, 1), TestData.squares(8, 2), null, true))
                .hasMessageContaining("the training images are 1x8x8 but the model takes 3x8x8");
    }

    @Test
    void invertibleBackpropTrainsLikeStandard(@TempDir Path dir) throws Exception {
        RunConfig std = TestData.tinyRun(10, 10);
        RunConfig inv = std.withTrain(std.train().toBuilder().backprop(Backprop.INVERTIBLE).build());
        train(std, dir.resolve("std"), false);
        train(inv, dir.resolve("inv"), false);
        Checkpoint a = Checkpoint.read(dir.resolve("std/checkpoints/ckpt-00000010.safetensors"));
        Checkpoint b = Checkpoint.read(dir.resolve("inv/checkpoints/ckpt-00000010.safetensors"));
        for (Map.Entry<String, Tensor> e : a.modelState().entrySet()) {
            Tensor other = b.modelState().get(e.getKey());
            double scale = Math.max(1e-3, e.getValue().abs().max().item_double());
            assertThat(e.getValue().sub(other).abs().max().item_double() / scale).as(e.getKey()).isLessThan(1e-3);
        }
    }
}
