package woodflow.bench;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;
import woodflow.model.Flops;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import javax.imageio.ImageIO;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark code runs on tiny sizes and writes well-formed output (no timing is asserted). */
class BenchSmokeTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void layerBenchWritesCsvSlopesAndPlots(@TempDir Path dir) throws Exception {
        var s = new LayerBench.Settings(LayerBench.LAYERS, new int[] {4}, new int[] {4, 8}, 1, 2, 0, 3, 60, 0.01);
        List<LayerBench.Row> rows = LayerBench.run(s, new PrintStream(OutputStream.nullOutputStream()));
        assertThat(rows).hasSize(LayerBench.LAYERS.size() * 2 * 3);
        LayerBench.write(rows, 4, dir);
        List<String> csv = Files.readAllLines(dir.resolve("layers.csv"));
        assertThat(csv.get(0)).isEqualTo("layer,channels,size,hw,direction,median_ms,min_ms,calls,steal_pct,"
                + "wide_spread,peak_mib");
        assertThat(csv).hasSize(rows.size() + 1);
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");
            assertThat(f).hasSize(11);
            // the minimum is positive and at most the median; at least the asked-for calls, at most ten times as many
            assertThat(Double.parseDouble(f[6])).isPositive().isLessThanOrEqualTo(Double.parseDouble(f[5]));
            assertThat(Integer.parseInt(f[7])).isBetween(3, 30);
            assertThat(Boolean.parseBoolean(f[9])).isEqualTo(Double.parseDouble(f[5]) > 1.5 * Double.parseDouble(f[6]));
        }
        assertThat(Files.readString(dir.resolve("layers.md"))).contains("the host's steal while a row ran")
                .contains("median / minimum ms");
        List<String> slopes = Files.readAllLines(dir.resolve("slopes.csv"));
        assertThat(slopes).hasSize(LayerBench.LAYERS.size() * 3 + 1);
        for (String d : new String[] {"forward", "inverse", "forward-backward"}) {
            assertThat(ImageIO.read(dir.resolve("layers-" + d + ".png").toFile()).getWidth()).isGreaterThan(100);
        }
    }

    @Test
    void slopesRecoverAKnownExponent() {
        // fitted to the minima (the medians here are noise: one burst of load)
        var x = woodflow.model.Permutation.CONV1X1;
        var forward = LayerBench.Direction.FORWARD;
        List<LayerBench.Row> rows = List.of(new LayerBench.Row(x, 1, 32, forward, 9.0, 2.0, 7, 0, 0),
                new LayerBench.Row(x, 1, 64, forward, 8.5, 8.0, 7, 0, 0),
                new LayerBench.Row(x, 1, 128, forward, 90.0, 32.0, 7, 0, 0));
        assertThat(LayerBench.slopes(rows, 32).get("conv1x1|1|forward")).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(rows.get(0).wide()).isTrue();
        assertThat(rows.get(1).wide()).isFalse();
    }

    @Test
    void trainAndSampleBenchReportTheirNumbers() {
        RunConfig c = Presets.load("yardstick-a");
        c = c.withModel(c.model().withSteps(1).withHidden(8)).withTrain(c.train().toBuilder().batch(4).build());
        Map<String, Object> t = TrainBench.train(c, "cpu", 1, 8);
        assertThat((Double) t.get("images_per_s")).isPositive();
        assertThat((Double) t.get("model_gflop_per_iter")).isPositive();
        assertThat((Double) t.get("matmul_fp32_gflops")).isPositive();
        assertThat(t.get("skipped_steps")).isEqualTo(0);
        assertThat(t.get("valid")).isEqualTo(true);
        assertThat((String) t.get("cpu")).contains("family").containsPattern("AMX");
        // the share of CPU time the host gave to other tenants during the timed iterations (Linux /proc/stat)
        // is a percentage; the timed parts (8 steps, 5 samplings of 16) span several 10 ms clock ticks, so NaN (no tick
        // between the two readings) is a failure, not a pass
        assertSteal(t, "iter_s_median", 8);
        Map<String, Object> s = TrainBench.sample(c, "cpu", 16, 0.7, 5);
        assertThat((Double) s.get("sample_s_median")).isPositive();
        assertSteal(s, "sample_s_median", 5);
        // sampling's counted work is the forward pass of its images, reported beside the matmul rate
        assertThat((Double) s.get("model_gflop")).isCloseTo(Flops.forward(c.model(), 16) / 1e9,
                org.assertj.core.api.Assertions.within(1e-9));
        // ... beside the machine's measured peak (its best kernel) and the theoretical one
        assertThat((Double) s.get("model_share_of_peak")).isPositive();
        assertThat((Double) s.get("peak_gflops")).isGreaterThanOrEqualTo((Double) s.get("matmul_fp32_gflops"));
        assertThat((String) s.get("peak_rates")).contains("fp32 matmul").contains("fp32 conv");
        assertThat((String) s.get("peak_theoretical")).contains("cores x").contains("GHz");

        // the memory-bounded backward is timed when asked for, and named in the record
        Map<String, Object> inv = TrainBench.train(c.withTrain(c.train().toBuilder()
                .backprop(woodflow.train.Backprop.INVERTIBLE).build()), "cpu", 1, 2);
        assertThat(inv.get("backprop")).isEqualTo(woodflow.train.Backprop.INVERTIBLE);
        assertThat(t.get("backprop")).isEqualTo(woodflow.train.Backprop.STANDARD);
        assertThat(inv.get("valid")).isEqualTo(true);
    }

    /** A timing that contains skipped (non-finite) steps is marked invalid: a skipped step does less work. */
    @Test
    void aTimingWithSkippedStepsIsInvalid() {
        RunConfig c = Presets.load("yardstick-a");
        var t0 = c.train();
        // a learning rate that blows the model up within a step or two: the timed steps are all non-finite
        var blowUp = t0.toBuilder().batch(4).iterations(10).lr(1e12).warmup(0).clip(0.0).weightDecay(0.0)
                .precision(woodflow.core.Precision.FP32).backprop(woodflow.train.Backprop.STANDARD).driftCheck(0.0)
                .build();
        c = c.withModel(c.model().withSteps(1).withHidden(8)).withTrain(blowUp);
        Map<String, Object> t = TrainBench.train(c, "cpu", 2, 3);
        assertThat((Integer) t.get("skipped_steps")).isPositive();
        assertThat(t.get("valid")).isEqualTo(false);
    }

    private static void assertSteal(Map<String, Object> r, String median, int repeats) {
        assertThat((Double) r.get("cpu_steal_pct"))
                .as("cpu_steal_pct over a timed part of about %.0f ms", 1000 * (Double) r.get(median) * repeats)
                .isBetween(0.0, 100.0);
    }
}
