package woodflow.train;

import woodflow.core.Precision;
import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Jvm;
import woodflow.core.Tensors;
import woodflow.distributed.DistConfig;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.distributed.LocalLauncher;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same run whatever the world size: 2 ranks (child JVMs on 127.0.0.1) with batch 8 each against one process with
 * batch 16, same seed, compute the same steps to float32 rounding: per-step losses, test bpd and final parameters.
 * In fp32 and bf16-mixed, with standard backprop and through inverses (the same gradient hook); with a moving average
 * of the weights, which every rank must hold to the bit; a class-conditional run, whose labels shard with the
 * images; and with a variational dequantiser (its parameters reduced with the flow's, each rank drawing its rows of
 * the global batch's noise).
 *
 * <p>In bf16-mixed the shard's convolutions (batch 8, not 16) may round differently in bfloat16: the losses still
 * agree to about 1e-6, but Adam's first steps move a parameter by about the learning rate whatever its gradient's size,
 * so a zero-initialised output convolution whose gradient is a rounding error apart differs elementwise. There the
 * parameters are compared as a whole (relative L2 difference, measured 2.8e-4); in fp32 elementwise (measured 4e-7).
 */
class DataParallelTest {
    static final int ITERATIONS = 4;
    /** In the run {@value #NAN_RUN}, the gradient of this step is NaN: on rank 1 only, or in the one process. */
    static final long NAN_STEP = 2;
    static final String NAN_RUN = "fp32-nan-on-rank-1";
    /** The run whose ranks average the gradients after the backward; the others overlap it, in small buckets. */
    static final String AFTER_BACKWARD_RUN = "fp32-after-backward";
    /** A class-conditional run on the labelled shapes: each rank gets its rows' labels. */
    static final String CONDITIONAL_RUN = "fp32-class-conditional";
    /** The runs whose images a variational dequantiser dequantises (data.dequantization: variational). */
    static final String VARIATIONAL_RUN = "fp32-variational";
    static final String VARIATIONAL_INVERTIBLE_RUN = "fp32-variational-invertible";
    /** The runs each JVM trains one after the other, on one group: name, precision, backprop. */
    static final String[][] RUNS = {{"fp32-standard", "fp32", "standard"}, {"fp32-invertible", "fp32", "invertible"},
            {"bf16-standard", "bf16-mixed", "standard"}, {"bf16-invertible", "bf16-mixed", "invertible"},
            {AFTER_BACKWARD_RUN, "fp32", "standard"},
            {NAN_RUN, "fp32", "standard"}, {CONDITIONAL_RUN, "fp32", "invertible"},
            {VARIATIONAL_RUN, "fp32", "standard"}, {VARIATIONAL_INVERTIBLE_RUN, "fp32", "invertible"}};

    /** Every run but {@value #AFTER_BACKWARD_RUN} keeps a moving average of the weights (train.ema). */
    static RunConfig config(String name, String precision, String backprop) {
        RunConfig tiny = TestData.tinyRun(ITERATIONS, ITERATIONS);
        if (name.equals(CONDITIONAL_RUN)) {
            tiny = tiny.withModel(tiny.model().withClasses(woodflow.model.Conditioning.CLASS, null, 0.01));
        }
        if (name.equals(VARIATIONAL_RUN) || name.equals(VARIATIONAL_INVERTIBLE_RUN)) {
            tiny = tiny.withData(tiny.data().toBuilder().dequantization(woodflow.data.Dequantization.VARIATIONAL)
                    .dequantizerSteps(2).dequantizerHidden(8).build());
        }
        return tiny.withTrain(tiny.train().toBuilder().batch(16).precision(Precision.parse(precision))
                .backprop(Backprop.parse(backprop)).logEvery(1).ema(name.equals(AFTER_BACKWARD_RUN) ? 0 : 0.9)
                .build());
    }

    /** A hash of the bits of a model's parameters: equal on two ranks only if every bit is. */
    static long bits(woodflow.model.MultiScaleFlow m) {
        long h = 17;
        for (Tensor p : m.parameters()) for (float v : Tensors.toFloats(p.contiguous())) h = 31 * h + Float.floatToIntBits(v);
        return h;
    }

    static Trainer trainer(RunConfig cfg, Path out) {
        // 250 test images: evaluation batches of 100, 100 and 50, so both ranks evaluate a share
        if (cfg.model().classConditional()) {
            return new Trainer(cfg, out, new woodflow.data.ShapeSource(256, 1, 8, 0, 0),
                    new woodflow.data.ShapeSource(250, 1, 8, 0, 256), System.out, true);
        }
        return new Trainer(cfg, out, TestData.squares(256, 1), TestData.squares(250, 2), System.out, true);
    }

    /** One rank of the group the environment describes; trains every run of {@link #RUNS} into OUT/NAME. */
    public static final class Rank {
        public static void main(String[] args) {
            try {
                Tensors.load();
                DistConfig c = DistConfig.resolve(System.getenv(), null, null, null, null);
                try (DistContext group = DistContext.join(c)) {
                    for (String[] r : RUNS) {
                        Trainer t = trainer(config(r[0], r[1], r[2]), Path.of(args[0], r[0])).distributed(group)
                                .overlap(!r[0].equals(AFTER_BACKWARD_RUN)).buckets(256, 1024);
                        if (r[0].equals(NAN_RUN) && group.rank() == 1) t.injectFaults(it -> false, it -> it == NAN_STEP);
                        t.run(false);
                        t.finish();
                        System.out.printf("average %s: %d%n", r[0], bits(t.evaluationModel()));
                        GradientReducer.Stats s = t.reducerStats();
                        if (s != null) {
                            System.out.printf(java.util.Locale.ROOT, "reducer %s: %d buckets, %.3f started during "
                                    + "the backward, %d steps redone%n", r[0], s.buckets(), s.overlappedShare(),
                                    s.redoneSteps());
                        }
                    }
                }
            } catch (Throwable e) {
                System.err.println("rank failed: " + e);
                e.printStackTrace();
                System.exit(1);
            }
            System.exit(0);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void twoRanksOfBatch8ComputeTheStepsOfOneProcessWithBatch16(@TempDir Path tmp) throws Exception {
        int port = LocalLauncher.freePort();
        Path group = tmp.resolve("group");
        List<Process> ranks = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            List<String> cmd = Jvm.javaCommand(Rank.class.getName());
            cmd.add(1, "-Dwoodflow.threads=1");
            cmd.add(group.toString());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("rank-" + r + ".log").toFile());
            pb.environment().putAll(Map.of("RANK", "" + r, "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                    "MASTER_PORT", "" + port, "WOODFLOW_DIST_TIMEOUT", "60"));
            ranks.add(pb.start());
        }
        try {
            // the one-process reference, here, while the ranks start
            for (String[] r : RUNS) {
                Trainer t = trainer(config(r[0], r[1], r[2]), tmp.resolve("one").resolve(r[0]));
                if (r[0].equals(NAN_RUN)) t.injectFaults(it -> false, it -> it == NAN_STEP);
                t.run(false);
                t.finish();
            }
            boolean ok = true;
            StringBuilder logs = new StringBuilder();
            for (int r = 0; r < 2; r++) {
                boolean ended = ranks.get(r).waitFor(90, TimeUnit.SECONDS);
                ok &= ended && ranks.get(r).exitValue() == 0;
                logs.append("rank ").append(r).append(":\n")
                        .append(Files.readString(tmp.resolve("rank-" + r + ".log"), StandardCharsets.UTF_8));
            }
            assertThat(ok).as("both ranks ended well; their logs:%n%s", logs).isTrue();
            // the overlapping reducer: many buckets, started while the backward ran (not all at its end), and the
            // step whose gradient rank 1 recomputed averaged again on both ranks
            String log0 = Files.readString(tmp.resolve("rank-0.log"), StandardCharsets.UTF_8);
            String log1 = Files.readString(tmp.resolve("rank-1.log"), StandardCharsets.UTF_8);
            for (String[] r : RUNS) {
                // every rank holds the same average of the weights, to the bit
                java.util.regex.Matcher a0 = java.util.regex.Pattern.compile("average " + r[0] + ": (-?\\d+)")
                        .matcher(log0), a1 = java.util.regex.Pattern.compile("average " + r[0] + ": (-?\\d+)")
                        .matcher(log1);
                assertThat(a0.find() && a1.find()).as("%s: both ranks printed their average", r[0]).isTrue();
                assertThat(a1.group(1)).as("%s: rank 1's average against rank 0's", r[0]).isEqualTo(a0.group(1));
            }
            for (String[] r : RUNS) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("reducer " + r[0] + ": (\\d+) buckets, "
                        + "([0-9.]+) started during the backward, (\\d+) steps redone").matcher(log0);
                if (r[0].equals(AFTER_BACKWARD_RUN)) {
                    assertThat(m.find()).as("%s has no reducer", r[0]).isFalse();
                    continue;
                }
                assertThat(m.find()).as("%s: the reducer's line in rank 0's log:%n%s", r[0], log0).isTrue();
                assertThat(Integer.parseInt(m.group(1))).as("%s: buckets", r[0]).isGreaterThan(3);
                // the first step learns the hooks' order and is reduced after its backward: at most 3 of 4 overlap
                assertThat(Double.parseDouble(m.group(2))).as("%s: share started during the backward", r[0])
                        .isGreaterThan(0.5);
                assertThat(Long.parseLong(m.group(3))).as("%s: steps redone", r[0])
                        .isEqualTo(r[0].equals(NAN_RUN) ? 1 : 0);
            }
        } finally {
            ranks.forEach(Process::destroyForcibly);
        }
        for (String[] r : RUNS) {
            boolean mixed = r[1].equals("bf16-mixed");
            double tol = mixed ? 1e-4 : 1e-5;
            Path one = tmp.resolve("one").resolve(r[0]);
            Path two = group.resolve(r[0]);
            List<Double> a = losses(one), b = losses(two);
            assertThat(b).as("%s: per-step losses", r[0]).hasSize(ITERATIONS);
            for (int i = 0; i < ITERATIONS; i++) {
                if (r[0].equals(NAN_RUN) && i == NAN_STEP) {
                    // skipped on every rank (rank 0's own gradient was finite), as in the one process
                    assertThat(a.get(i)).isNaN();
                    assertThat(b.get(i)).as("the step with a NaN gradient on rank 1 only").isNaN();
                    continue;
                }
                assertThat(b.get(i)).as("%s: loss of step %d", r[0], i + 1)
                        .isCloseTo(a.get(i), org.assertj.core.data.Offset.offset(tol * Math.abs(a.get(i))));
            }
            if (r[0].equals(NAN_RUN)) {
                JsonNode summary = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(two.resolve("summary.json").toFile());
                assertThat(summary.get("skipped_steps").asLong()).as("steps skipped by the group").isEqualTo(1);
            }
            double ta = testBpd(one), tb = testBpd(two);
            assertThat(tb).as("%s: test bpd (sharded evaluation)", r[0])
                    .isCloseTo(ta, org.assertj.core.data.Offset.offset(tol * Math.abs(ta)));
            // the trained weights, and (but in one run) their average
            Map<String, Tensor> pa = new java.util.LinkedHashMap<>(Checkpoint.read(one.resolve("checkpoints").resolve(ckpt())).tensors());
            Map<String, Tensor> pb = new java.util.LinkedHashMap<>(Checkpoint.read(two.resolve("checkpoints").resolve(ckpt())).tensors());
            pa.keySet().removeIf(k -> k.startsWith("adam."));
            pb.keySet().removeIf(k -> k.startsWith("adam."));
            assertThat(pa.keySet().stream().anyMatch(k -> k.startsWith("ema.")))
                    .isEqualTo(!r[0].equals(AFTER_BACKWARD_RUN));
            assertThat(pb.keySet()).isEqualTo(pa.keySet());
            double worst = 0;
            String where = "";
            double diff2 = 0, norm2 = 0;
            for (String k : pa.keySet()) {
                diff2 += Math.pow(pa.get(k).sub(pb.get(k)).norm().item_double(), 2);
                norm2 += Math.pow(pa.get(k).norm().item_double(), 2);
                double scale = Math.max(pa.get(k).abs().max().item_double(), 1e-3);
                double err = pa.get(k).sub(pb.get(k)).abs().max().item_double() / scale;
                if (err > worst) {
                    worst = err;
                    where = k;
                }
            }
            double l2 = Math.sqrt(diff2 / norm2);
            System.out.printf("%s: losses %s (2 ranks) against %s (1 process); final parameters: largest difference "
                    + "%.2g of its tensor's largest value (at %s), relative L2 difference %.2g%n", r[0], b, a, worst,
                    where, l2);
            if (mixed) {
                assertThat(l2).as("%s: final parameters, relative L2 difference", r[0]).isLessThan(1e-2);
            } else {
                assertThat(worst).as("%s: final parameters, worst at %s", r[0], where).isLessThan(1e-5);
            }
        }
    }

    private static String ckpt() {
        return String.format("ckpt-%08d.safetensors", ITERATIONS);
    }

    private static List<Double> losses(Path run) throws Exception {
        List<Double> out = new ArrayList<>();
        for (JsonNode n : MetricsLog.read(run.resolve("metrics.jsonl"))) {
            // a step skipped on every rank has no finite training bpd: metrics.jsonl says null
            if (n.has("train_bpd")) out.add(n.get("train_bpd").isNumber() ? n.get("train_bpd").asDouble() : Double.NaN);
        }
        return out;
    }

    private static double testBpd(Path run) throws Exception {
        double last = Double.NaN;
        for (JsonNode n : MetricsLog.read(run.resolve("metrics.jsonl"))) {
            if (n.has("test_bpd") && n.get("iteration").asLong() == ITERATIONS) last = n.get("test_bpd").asDouble();
        }
        return last;
    }
}
