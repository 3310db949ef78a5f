package woodflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.train.MetricsLog;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.CliTest.cli;

/**
 * {@code compare} and {@code ablate} end to end on CliTest's tiny embedded-data config: each run trains in a child
 * JVM, so these tests are the slowest of the suite (a few seconds per run) and train as few runs as they can.
 */
class CompareCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path tinyBase(Path dir) throws Exception {
        Path base = dir.resolve("tiny.yaml");
        Files.writeString(base, CliTest.TINY);
        return base;
    }

    private static JsonNode json(Path file) throws Exception {
        return JSON.readTree(file.toFile());
    }

    /** The CSV as {first column -> {column -> value}}. */
    private static Map<String, Map<String, String>> csv(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file);
        String[] head = lines.get(0).split(",", -1);
        Map<String, Map<String, String>> out = new HashMap<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",", -1);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < head.length; i++) row.put(head[i], f[i]);
            out.put(f[0], row);
        }
        return out;
    }

    private static List<Long> evaluatedIterations(Path run) throws Exception {
        List<Long> its = new ArrayList<>();
        for (JsonNode n : MetricsLog.read(run.resolve("metrics.jsonl"))) {
            if (n.has("test_bpd")) its.add(n.get("iteration").asLong());
        }
        return its;
    }

    @Test
    void comparisonWritesAgreeingOutputsAndContinuesWhenInterruptedOrExtended(@TempDir Path dir) throws Exception {
        Path base = tinyBase(dir), out = dir.resolve("cmp");
        String[] args = {"compare", "--base", base.toString(), "--methods", "woodbury,glow-1x1", "--eval-every", "2",
                "--out", out.toString(), "--threads", "1"};
        CliTest.Outcome first = cli(concat(args, "--budget", "2"));
        assertThat(first.code()).as(first.out() + first.err()).isZero();
        Path wood = out.resolve("runs/woodbury-s1"), glow = out.resolve("runs/glow-1x1-s1");

        // the CSV's bpd is the runs' best test bpd; the Markdown table and the report show the same rounded values
        Map<String, Map<String, String>> rows = csv(out.resolve("results.csv"));
        String md = Files.readString(out.resolve("results.md"));
        String html = Files.readString(out.resolve("report.html"));
        for (String[] m : new String[][] {{"woodbury", wood.toString()}, {"glow-1x1", glow.toString()}}) {
            JsonNode summary = json(Path.of(m[1]).resolve("summary.json"));
            assertThat(summary.get("status").asText()).isEqualTo("finished");
            double best = summary.get("best_test_bpd").asDouble();
            assertThat(Double.parseDouble(rows.get(m[0]).get("best_test_bpd_mean"))).isEqualTo(best);
            assertThat(Long.parseLong(rows.get(m[0]).get("parameters"))).isEqualTo(summary.get("parameters").asLong());
            assertThat(Double.parseDouble(rows.get(m[0]).get("iterations"))).isEqualTo(2.0);
            String rounded = String.format(java.util.Locale.ROOT, "%.4f", best);
            assertThat(md).contains("| " + m[0] + " | ").contains(rounded);
            assertThat(html).contains(rounded);
            assertThat(Double.parseDouble(rows.get(m[0]).get("peak_rss_mb"))).isGreaterThan(50);
            assertThat(Double.parseDouble(rows.get(m[0]).get("sample_seconds_64"))).isPositive();
            assertThat(ImageIO.read(out.resolve("samples/" + m[0] + ".png").toFile())).isNotNull();
        }
        for (String png : new String[] {"bpd-vs-iterations.png", "bpd-vs-time.png"}) {
            assertThat(ImageIO.read(out.resolve(png).toFile()).getWidth()).isEqualTo(800);
        }
        for (String line : md.lines().filter(l -> l.startsWith("| woodbury") || l.startsWith("| glow")).toList()) {
            for (String cell : line.split("\\|")) assertThat(html).contains(cell.strip());
        }
        assertThat(json(wood.resolve("cell.json")).get("threads").asInt())
                .isEqualTo(1);

        // interrupted after training but before its measurements: measured again, not retrained
        Files.delete(wood.resolve("cell.json"));
        String woodMetrics = Files.readString(wood.resolve("metrics.jsonl"));
        CliTest.Outcome again = cli(concat(args, "--budget", "2"));
        assertThat(again.code()).as(again.out() + again.err()).isZero();
        assertThat(again.out()).contains("woodbury-s1: resuming").contains("glow-1x1-s1: finished earlier");
        assertThat(Files.readString(wood.resolve("metrics.jsonl"))).isEqualTo(woodMetrics);
        assertThat(Files.exists(wood.resolve("cell.json"))).isTrue();

        // a larger budget continues both runs from their checkpoints at iteration 2
        CliTest.Outcome more = cli(concat(args, "--budget", "4"));
        assertThat(more.code()).as(more.out() + more.err()).isZero();
        for (Path run : List.of(wood, glow)) {
            assertThat(Files.readString(run.resolve("train.log"))).contains("resumed from").contains("at iteration 2");
            assertThat(evaluatedIterations(run)).containsExactly(0L, 2L, 4L);
            assertThat(json(run.resolve("summary.json")).get("iterations").asLong()).isEqualTo(4);
        }
        rows = csv(out.resolve("results.csv"));
        assertThat(Double.parseDouble(rows.get("woodbury").get("best_test_bpd_mean")))
                .isEqualTo(json(wood.resolve("summary.json")).get("best_test_bpd").asDouble());
        assertThat(rows.get("glow-1x1").get("iterations")).isEqualTo("4.0");

        // the same study again has nothing to do; a changed base is refused instead of mixing two configs
        CliTest.Outcome done = cli(concat(args, "--budget", "4"));
        assertThat(done.out()).contains("woodbury-s1: finished earlier").doesNotContain("resuming");
        Files.writeString(base, CliTest.TINY.replace("hidden: 8", "hidden: 12"));
        CliTest.Outcome changed = cli(concat(args, "--budget", "4"));
        assertThat(changed.code()).isNotZero();
        assertThat(changed.err()).contains("was trained with a different config (model.hidden was 8, now 12)");
    }

    @Test
    void ablationWithATimeBudget(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("abl");
        CliTest.Outcome o = cli("ablate", "--base", tinyBase(dir).toString(), "--param", "d", "--values", "3",
                "--minutes", "0.002", "--out", out.toString(), "--threads", "1");
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        Path run = out.resolve("runs/woodbury-d3-s1");
        assertThat(Files.readString(run.resolve("config.yaml"))).contains("d_s:\n  - 3\n  - 3");
        JsonNode summary = json(run.resolve("summary.json"));
        assertThat(summary.get("train_seconds").asDouble()).isGreaterThanOrEqualTo(0.12);
        // stopped by the time, evaluated where it stopped
        assertThat(evaluatedIterations(run)).last().isEqualTo(summary.get("iterations").asLong());
        Map<String, String> row = csv(out.resolve("results.csv")).get("3");
        assertThat(Double.parseDouble(row.get("best_test_bpd_mean"))).isEqualTo(summary.get("best_test_bpd")
                .asDouble());
        assertThat(Double.parseDouble(row.get("iterations"))).isEqualTo(summary.get("iterations").asDouble());
        String md = Files.readString(out.resolve("results.md"));
        assertThat(md).startsWith("# Ablation of d for woodbury").contains("| d | parameters |")
                .contains("0.002 minutes of training steps per run");
        assertThat(Files.exists(out.resolve("report.html"))).isTrue();
    }

    @Test
    void badStudiesFailBeforeTrainingAnything(@TempDir Path dir) throws Exception {
        String base = tinyBase(dir).toString(), out = dir.resolve("x").toString();
        String[][] cases = {
                {"unknown method 'flowpp'", "compare", "--base", base, "--methods", "woodbury,flowpp", "--out", out},
                {"not both", "compare", "--base", base, "--budget", "2", "--minutes", "1", "--out", out},
                {"has no Woodbury layer", "ablate", "--base", base, "--method", "glow-1x1", "--param", "d",
                        "--values", "2", "--out", out},
                {"unknown ablation parameter 'lr'", "ablate", "--base", base, "--param", "lr", "--values", "2",
                        "--out", out},
                {"--seeds must be at least 1", "compare", "--base", base, "--seeds", "0", "--out", out},
                {"unknown --data 'mnist8'", "compare", "--data", "mnist8", "--out", out}};
        for (String[] c : cases) {
            CliTest.Outcome o = cli(Arrays.copyOfRange(c, 1, c.length));
            // an unknown name of a closed choice is a usage error (2); the rest fail when the study is set up (1)
            assertThat(o.code()).as(String.join(" ", c)).isEqualTo(c[0].startsWith("unknown ablation") ? 2 : 1);
            assertThat(o.err()).contains(c[0]);
            assertThat(o.err().strip().lines().count()).isEqualTo(1);
        }
        assertThat(Files.exists(dir.resolve("x/runs"))).isFalse();
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
