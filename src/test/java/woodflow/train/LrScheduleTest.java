package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import woodflow.core.Tensors;
import woodflow.data.ArraySource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The learning-rate schedules ({@code train.schedule}): their formulas, their YAML and exact resumes. */
class LrScheduleTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void exponentialIsTheOfficialCodesRule() {
        LrSchedule s = LrSchedule.named("exponential");
        assertThat(s.decay()).isEqualTo(0.95);
        assertThat(s.floor()).isEqualTo(0.01);
        // the official code: lr starts at 1e-3; after each epoch, if lr > 1e-3 / 100.0, lr = lr * 0.95
        double lr = 1e-3;
        double threshold = 1e-3 / 100.0;
        List<Double> official = new ArrayList<>();
        for (int epoch = 0; epoch < 120; epoch++) {
            official.add(lr);
            if (lr > threshold) lr = lr * 0.95;
        }
        int stepsPerEpoch = 7;
        for (int epoch = 0; epoch < 120; epoch++) {
            for (int k : new int[] {0, 3, 6}) {
                assertThat(s.lr(1e-3, (long) epoch * stepsPerEpoch + k, 0, 100_000, stepsPerEpoch))
                        .as("epoch %d", epoch).isEqualTo(official.get(epoch));
            }
        }
        // it stops at the first rate at or below 1/100 of the start: 0.95^90 = 0.0099
        assertThat(official.get(119)).isEqualTo(official.get(90)).isLessThanOrEqualTo(1e-5);
        assertThat(official.get(89)).isGreaterThan(1e-5);
    }

    @Test
    void cosineFallsToItsFloorAfterTheWarmUpAndWarmUpAppliesToEverySchedule() {
        LrSchedule cos = new LrSchedule(LrSchedule.Kind.COSINE, null, 0.1);
        // warm-up over 10 iterations, then half a cosine over the 90 left
        assertThat(cos.lr(2.0, 0, 10, 100, 5)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(cos.lr(2.0, 9, 10, 100, 5)).isEqualTo(2.0);
        assertThat(cos.lr(2.0, 55, 10, 100, 5)).isCloseTo(2.0 * (0.1 + 0.9 * 0.5), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(cos.lr(2.0, 100, 10, 100, 5)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(LrSchedule.CONSTANT.lr(2.0, 4, 10, 100, 5)).isEqualTo(1.0);
        assertThat(LrSchedule.CONSTANT.lr(2.0, 50, 10, 100, 5)).isEqualTo(2.0);
        assertThat(LrSchedule.named("exponential").lr(2.0, 4, 10, 100, 5)).isEqualTo(1.0);
        assertThat(LrSchedule.named("exponential").lr(2.0, 12, 10, 100, 5)).isEqualTo(2.0 * 0.95 * 0.95);
    }

    @Test
    void yamlTakesTheShortAndTheFullFormAndNamesMistakes() {
        assertThat(parse("schedule: cosine").train().schedule()).isEqualTo(new LrSchedule(LrSchedule.Kind.COSINE,
                null, 0.01));
        assertThat(parse("schedule: {kind: exponential, decay: 0.9, floor: 0.05}").train().schedule())
                .isEqualTo(new LrSchedule(LrSchedule.Kind.EXPONENTIAL, 0.9, 0.05));
        assertThat(parse("lr: 0.001").train().schedule()).isEqualTo(LrSchedule.CONSTANT);
        // written back as it was read: a run's config.yaml resumes with the same schedule
        for (String text : new String[] {"schedule: constant", "schedule: cosine",
                "schedule: {kind: exponential, decay: 0.9, floor: 0.05}"}) {
            RunConfig c = parse(text);
            assertThat(RunConfig.fromJson(c.toJson()).train().schedule()).isEqualTo(c.train().schedule());
            assertThat(RunConfig.parse(new ByteArrayInputStream(c.toYaml().getBytes(StandardCharsets.UTF_8)),
                    "yaml").train().schedule()).isEqualTo(c.train().schedule());
        }
        assertThat(parse("lr: 0.001").toYaml()).contains("schedule: \"constant\"");
        assertThatThrownBy(() -> parse("schedule: cosin")).hasMessageContaining("unknown train.schedule 'cosin'")
                .hasMessageContaining("did you mean cosine?");
        assertThatThrownBy(() -> parse("schedule: {kind: expo}")).hasMessageContaining("did you mean exponential?");
        assertThatThrownBy(() -> parse("schedule: {kind: cosine, decay: 0.9}").validate())
                .hasMessageContaining("schedule.decay applies to the exponential schedule only");
        assertThatThrownBy(() -> parse("schedule: {kind: exponential, decay: 1.5}").validate())
                .hasMessageContaining("schedule.decay must be in (0, 1)");
        assertThatThrownBy(() -> parse("schedule: {kind: cosine, flor: 0.1}")).hasMessageContaining("flor");
    }

    private static RunConfig parse(String trainYaml) {
        String yaml = "train:\n  " + trainYaml + "\n";
        return RunConfig.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yaml");
    }

    private static RunConfig run(int iterations, LrSchedule schedule) {
        RunConfig tiny = TestData.tinyRun(iterations, 10);
        // 64 images in batches of 8: epochs of 8 iterations, so a 20-iteration run crosses two epoch ends
        return tiny.withTrain(tiny.train().toBuilder().schedule(schedule).lr(0.004).warmup(4).logEvery(1).build());
    }

    private static void train(RunConfig cfg, Path dir, boolean resume) throws Exception {
        ArraySource train = TestData.squares(64, 1), test = TestData.squares(16, 2);
        Trainer t = new Trainer(cfg, dir, train, test, null, true);
        t.run(resume);
        t.finish();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"constant", "exponential", "cosine"})
    void aResumedRunTrainsAtTheSameRatesToTheSameWeightsBitForBit(String kind, @TempDir Path dir) throws Exception {
        LrSchedule schedule = kind.equals("exponential") ? new LrSchedule(LrSchedule.Kind.EXPONENTIAL, 0.5, 0.2)
                : LrSchedule.named(kind);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        train(run(20, schedule), a, false);
        // b: the same run "killed" after its checkpoint at iteration 10 (a copy without its later checkpoint), resumed
        copy(a, b);
        java.nio.file.Files.delete(b.resolve("checkpoints/ckpt-00000020.safetensors"));
        train(run(20, schedule), b, true);
        Map<String, Tensor> ta = Checkpoint.read(a.resolve("checkpoints/ckpt-00000020.safetensors")).tensors();
        Map<String, Tensor> tb = Checkpoint.read(b.resolve("checkpoints/ckpt-00000020.safetensors")).tensors();
        assertThat(tb.keySet()).isEqualTo(ta.keySet());
        for (var e : ta.entrySet()) {
            assertThat(org.bytedeco.pytorch.global.torch.equal(e.getValue(), tb.get(e.getKey())))
                    .as(e.getKey() + " bit for bit").isTrue();
        }
        List<Double> ra = rates(a), rb = rates(b);
        assertThat(rb).isEqualTo(ra).hasSize(20);
        TrainConfig tc = run(20, schedule).train();
        for (int it = 0; it < 20; it++) assertThat(ra.get(it)).isEqualTo(tc.lrAt(0.004, it, 8));
        if (kind.equals("exponential")) {
            // warm-up over 4, then x0.5 after each epoch of 8 iterations while above 0.2 of the base
            assertThat(ra.subList(3, 10)).containsOnly(0.004, 0.002);
            assertThat(ra.subList(16, 20)).containsOnly(0.001);
            // 0.001 is still above 0.2 x 0.004, so one more halving, then it stays at 0.0005
            assertThat(tc.lrAt(0.004, 8 * 5, 8)).isEqualTo(tc.lrAt(0.004, 8 * 3, 8)).isEqualTo(0.0005);
        }
        if (kind.equals("cosine")) assertThat(ra.get(19)).isLessThan(ra.get(10)).isLessThan(ra.get(4));
    }

    /** A copy of the run folder {@code from} (files only, one level of sub-folders). */
    static void copy(Path from, Path to) throws java.io.IOException {
        try (var files = java.nio.file.Files.walk(from)) {
            for (Path f : files.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (java.nio.file.Files.isDirectory(f)) java.nio.file.Files.createDirectories(t);
                else java.nio.file.Files.copy(f, t);
            }
        }
    }

    /** The learning rate of every step, from the metrics (a log line per step). */
    private static List<Double> rates(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (JsonNode n : MetricsLog.read(run.resolve("metrics.jsonl"))) {
            if (n.has("train_bpd")) out.add(n.get("lr").asDouble());
        }
        return out;
    }
}
