package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Init;
import woodflow.core.NumericalException;
import woodflow.core.Tensors;
import woodflow.data.Quantization;
import woodflow.layers.LowRankFactor;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.Sampler;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Training survives what goes wrong: a corrupt newest checkpoint, torn metrics, files of killed writers, a second
 * trainer on the same folder (also one in another process, killed), non-finite losses and gradients (skipped,
 * counted, recovered from), and a Woodbury factor that turns singular. The kill -9 soak is in cli/CrashSafetyTest.
 */
class RobustnessTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    /** A tiny run: checkpoints every 5 iterations, the newest 2 kept. */
    static RunConfig run(int iterations, String extra) {
        String yaml = """
                model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                        d_c: [2, 2], d_s: [2, 2]}
                train: {%s}
                """.formatted(FlowMappings.merge("batch: 8, iterations: " + iterations + ", eval_every: 10, "
                + "checkpoint_every: 5, log_every: 5, keep_checkpoints: 2, seed: 3", extra));
        return RunConfig.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test").validate();
    }

    record Run(Trainer.Result result, String out) {}

    static Run train(RunConfig cfg, Path dir, boolean resume, LongPredicate nanInput, LongPredicate nanGrad)
            throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Trainer t = new Trainer(cfg, dir, TestData.squares(64, 1), TestData.squares(16, 2),
                new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        t.injectFaults(nanInput, nanGrad);
        Trainer.Result r = t.run(resume);
        t.finish();
        return new Run(r, bytes.toString(StandardCharsets.UTF_8));
    }

    static Run train(RunConfig cfg, Path dir, boolean resume) throws Exception {
        return train(cfg, dir, resume, it -> false, it -> false);
    }

    /** Fires once for each of the given iterations (a transient fault: gone when the iteration is re-run). */
    static LongPredicate once(long... iterations) {
        Set<Long> left = new HashSet<>();
        for (long i : iterations) left.add(i);
        return left::remove;
    }

    static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void corruptNewestCheckpointIsSkippedWithAWarningAndTheRunResumesFromThePreviousOne(@TempDir Path dir)
            throws Exception {
        train(run(20, ""), dir, false);
        assertThat(files(dir.resolve("checkpoints")))
                .containsExactly("best.safetensors", "ckpt-00000015.safetensors", "ckpt-00000020.safetensors");
        Path newest = dir.resolve("checkpoints/ckpt-00000020.safetensors");
        byte[] b = Files.readAllBytes(newest);
        b[b.length - 3] ^= 0x10; // one flipped bit in the tensor data
        Files.write(newest, b);
        Run resumed = train(run(25, ""), dir, true);
        assertThat(resumed.out()).contains("warning: skipping unreadable checkpoint ckpt-00000020.safetensors")
                .contains("corrupt");
        assertThat(resumed.result().iterations()).isEqualTo(25);
        assertThat(Checkpoint.read(dir.resolve("checkpoints/ckpt-00000025.safetensors")).state().adamStep())
                .isEqualTo(25);
        // the corrupt file is overwritten when its iteration is reached again, and pruned with the rest
        assertThat(files(dir.resolve("checkpoints")))
                .containsExactly("best.safetensors", "ckpt-00000020.safetensors", "ckpt-00000025.safetensors");
        Checkpoint.read(dir.resolve("checkpoints/ckpt-00000020.safetensors"));
    }

    @Test
    void whenNoCheckpointReadsBackResumeRefusesAndTouchesNothing(@TempDir Path dir) throws Exception {
        train(run(10, ""), dir, false);
        for (String name : files(dir.resolve("checkpoints"))) {
            Path p = dir.resolve("checkpoints").resolve(name);
            byte[] b = Files.readAllBytes(p);
            Files.write(p, java.util.Arrays.copyOf(b, b.length - 100));
        }
        byte[] metrics = Files.readAllBytes(dir.resolve("metrics.jsonl"));
        assertThatThrownBy(() -> train(run(20, ""), dir, true))
                .hasMessageContaining("no checkpoint in " + dir.resolve("checkpoints") + " reads back intact")
                .hasMessageContaining("truncated").hasMessageContaining("move the folder away");
        assertThat(Files.readAllBytes(dir.resolve("metrics.jsonl"))).isEqualTo(metrics);
    }

    @Test
    void resumeDropsATornMetricsLineAndTheFilesOfKilledWriters(@TempDir Path dir) throws Exception {
        train(run(10, ""), dir, false);
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"iteration\":11,\"train_b",
                java.nio.file.StandardOpenOption.APPEND);
        Path deadPid = dir.resolve("checkpoints/.ckpt-00000015.safetensors.tmp-999999999");
        Files.write(deadPid, new byte[1000]);
        Files.write(dir.resolve(".summary.json.tmp-999999998"), new byte[10]);
        Path live = dir.resolve(".summary.json.tmp-" + ProcessHandle.current().parent().orElseThrow().pid());
        Files.write(live, new byte[10]);
        train(run(15, ""), dir, true);
        assertThat(deadPid).doesNotExist();
        assertThat(dir.resolve(".summary.json.tmp-999999998")).doesNotExist();
        assertThat(live).as("a live process's file is left alone").exists();
        List<JsonNode> m = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertThat(Files.readString(dir.resolve("metrics.jsonl"))).doesNotContain("train_b\n").endsWith("\n");
        assertThat(m.stream().filter(n -> n.has("train_bpd")).map(n -> n.get("iteration").asLong()))
                .containsExactly(5L, 10L, 15L);
    }

    @Test
    void aSecondTrainerIsRefusedWhileAnotherProcessHoldsTheFolderAndAKilledHolderLeavesNoLock(@TempDir Path dir)
            throws Exception {
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HoldRunLock.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(r.readLine()).isEqualTo("locked");
            assertThatThrownBy(() -> train(run(5, ""), dir, false)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("run folder " + dir + " is in use by another trainer (pid " + holder.pid()
                            + "); wait for it to finish or use another --out");
            assertThatThrownBy(() -> RunLock.acquire(dir).close()).hasMessageContaining("in use by another trainer");
        } finally {
            holder.destroyForcibly();
            assertThat(holder.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(dir.resolve("run.lock")).exists(); // the file stays, the OS lock went with the process
        assertThat(train(run(5, ""), dir, false).result().iterations()).isEqualTo(5);
        try (RunLock mine = RunLock.acquire(dir)) {
            assertThatThrownBy(() -> RunLock.acquire(dir)).hasMessageContaining("in use by another trainer");
        }
    }

    @Test
    void nonFiniteLossesAndGradientsAreSkippedAndCounted(@TempDir Path dir) throws Exception {
        Run r = train(run(15, ""), dir, false, once(3, 7), once(12));
        assertThat(r.result().iterations()).isEqualTo(15);
        assertThat(r.result().skippedSteps()).isEqualTo(3);
        Checkpoint c = Checkpoint.read(dir.resolve("checkpoints/ckpt-00000015.safetensors"));
        assertThat(c.state().adamStep()).isEqualTo(12);
        assertThat(c.state().skippedSteps()).isEqualTo(3);
        for (Tensor t : c.tensors().values()) assertThat(torch.isfinite(t).all().item_bool()).isTrue();
        List<JsonNode> m = MetricsLog.read(dir.resolve("metrics.jsonl"));
        List<Long> skippedByLog = m.stream().filter(n -> n.has("train_bpd"))
                .map(n -> n.get("skipped_steps").asLong()).toList();
        assertThat(skippedByLog).containsExactly(1L, 2L, 3L);
        assertThat(m.stream().filter(n -> n.has("train_bpd")).allMatch(n -> Double.isFinite(
                n.get("train_bpd").asDouble()))).isTrue();
    }

    @Test
    void tooManyBadStepsInARowRestoreTheLastCheckpointWithAHalvedLearningRate(@TempDir Path dir) throws Exception {
        RunConfig cfg = run(16, "max_bad_steps: 3, log_every: 2, checkpoint_every: 10, lr: 0.002");
        Run r = train(cfg, dir, false, once(11, 12, 13), it -> false);
        assertThat(r.out()).contains("3 non-finite steps in a row: restored ckpt-00000010.safetensors and lowered "
                + "the learning rate to 0.001");
        assertThat(r.result().iterations()).isEqualTo(16);
        assertThat(r.result().skippedSteps()).isEqualTo(3);
        Checkpoint last = Checkpoint.read(dir.resolve("checkpoints/ckpt-00000016.safetensors"));
        assertThat(last.state().adamStep()).isEqualTo(16); // 10 before, 6 after the restore: the bad ones undone
        assertThat(last.state().lr()).isEqualTo(0.001);
        assertThat(Checkpoint.read(dir.resolve("checkpoints/ckpt-00000010.safetensors")).state().lr())
                .as("the restored checkpoint carries the lowered rate, so a kill now keeps it").isEqualTo(0.001);
        List<JsonNode> m = MetricsLog.read(dir.resolve("metrics.jsonl"));
        List<Long> its = new ArrayList<>();
        for (JsonNode n : m) if (n.has("train_bpd")) its.add(n.get("iteration").asLong());
        assertThat(its).containsExactly(2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L); // the diverged stretch was dropped
        JsonNode event = m.stream().filter(n -> n.has("event")).findFirst().orElseThrow();
        assertThat(event.get("event").asText()).isEqualTo("recovered");
        assertThat(event.get("iteration").asLong()).isEqualTo(10);
        assertThat(event.get("lr").asDouble()).isEqualTo(0.001);
        assertThat(m.stream().filter(n -> n.has("train_bpd") && n.get("iteration").asLong() == 12).findFirst()
                .orElseThrow().get("lr").asDouble()).isEqualTo(0.001);
    }

    @Test
    void aPersistentFaultStopsTheRunWithItsReasonAfterThreeRecoveries(@TempDir Path dir) throws Exception {
        RunConfig cfg = run(30, "max_bad_steps: 2");
        assertThatThrownBy(() -> train(cfg, dir, false, it -> it >= 6, it -> false))
                .isInstanceOf(NumericalException.class)
                .hasMessage("training still produces non-finite losses or gradients after restoring "
                        + "ckpt-00000005.safetensors 3 times with a halved learning rate each time (now 0.000125); "
                        + "check the data for bad values, or enable clipping (train.clip)");
        assertThat(Checkpoint.read(dir.resolve("checkpoints/ckpt-00000005.safetensors")).state().adamStep())
                .isEqualTo(5);
        // the run folder says it failed and why (the dashboard shows it), rather than looking killed
        JsonNode summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("summary.json")
                .toFile());
        assertThat(summary.get("status").asText()).isEqualTo("failed");
        assertThat(summary.get("error").asText()).startsWith("training still produces non-finite losses");
        assertThatThrownBy(() -> train(run(30, "max_bad_steps: 2"), dir.resolve("early"), false, it -> it >= 1,
                it -> false)).isInstanceOf(NumericalException.class)
                .hasMessageContaining("2 training steps in a row had a non-finite loss or gradient before the first "
                        + "checkpoint; lower the learning rate (train.lr) or enable clipping (train.clip)");
    }

    @Test
    void aSingularWoodburyFactorIsReportedWithTheLayersNameNotGarbage() {
        MultiScaleFlow model = new MultiScaleFlow(run(1, "").model(), Init.float32());
        List<LowRankFactor> factors = new ArrayList<>();
        model.visit(m -> {
            if (m instanceof LowRankFactor f) factors.add(f);
        });
        LowRankFactor f = factors.get(0);
        try (PointerScope scope = new PointerScope()) {
            // U = [I; 0] and V = -[I, 0]: V U = -I, so I + V U = 0 and I + U V is singular
            try (NoGradGuard g = new NoGradGuard()) {
                Tensor eye = torch.eye(f.rank());
                f.u().zero_().narrow(0, 0, f.rank()).copy_(eye);
                f.v().zero_().narrow(1, 0, f.rank()).copy_(eye.neg());
            }
            var src = TestData.squares(4, 1);
            List<byte[]> imgs = new ArrayList<>();
            for (int i = 0; i < src.size(); i++) imgs.add(src.image(i));
            Tensor x = Quantization.dequantize(Quantization.stack(imgs, 1, 8, 8), 8);
            double bpd = model.bitsPerDim(x, 256).mean().item_double();
            assertThat(bpd).as("the likelihood says infinity (the training step is skipped)").isInfinite();
            model.train(false);
            assertThatThrownBy(() -> Sampler.sample(model, 2, 0.7, 8, 1)).isInstanceOf(NumericalException.class)
                    .hasMessageStartingWith("Woodbury layer " + f.path() + ": the matrix I + V U (" + f.rank() + "x"
                            + f.rank() + ") is near-singular")
                    .hasMessageContaining("cannot be inverted reliably");
            assertThat(f.path()).startsWith("level").contains(".permutation.");
        }
    }
}
