package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The command line end to end on a tiny embedded-data run: train, resume, eval, sample, score, inspect, and every
 * error path prints its reason on one line and exits non-zero.
 */
public class CliTest {
    static Path run;
    static Path config;

    /** What a command line printed and returned (shared by the tests of other packages). */
    public record Outcome(int code, String out, String err) {}

    public static synchronized Outcome cli(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            int code = Main.execute(args);
            return new Outcome(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static final String TINY = """
            description: tiny test run
            model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4]}
            data: {kind: embedded, count: 256, holdout: 32, n_bits: 8}
            train: {batch: 8, iterations: 40, eval_every: 20, log_every: 10, seed: 1}
            """;

    @BeforeAll
    static void trainTinyRun(@TempDir Path dir) throws Exception {
        config = dir.resolve("tiny.yaml");
        Files.writeString(config, TINY);
        run = dir.resolve("run");
        Outcome o = cli("train", "--config", config.toString(), "--out", run.toString(), "--iterations", "20",
                "--no-report");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("done: 20 iterations");
    }

    @Test
    void resumeContinuesTheRunAndWritesTheReport() {
        Outcome o = cli("train", "--out", run.toString(), "--resume", "--iterations", "40");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("resumed from checkpoints").contains("at iteration 20").contains("done: 40");
        assertThat(Files.exists(run.resolve("report.html"))).isTrue();
        assertThat(Files.exists(run.resolve("curve.png"))).isTrue();
    }

    /**
     * {@code eval --samples K}: the one-sample figure (the same as without K) and the K-sample bound beside it, in the
     * printed line, the --json file and the run folder's evals.jsonl.
     */
    @Test
    void evalWithSamplesReportsTheImportanceWeightedBoundAndRecordsIt(@TempDir Path dir) throws Exception {
        Outcome one = cli("eval", "--checkpoint", run.toString());
        assertThat(one.code()).as(one.err()).isZero();
        Path json = dir.resolve("eval.json");
        Outcome k = cli("eval", "--checkpoint", run.toString(), "--samples", "4", "--json", json.toString());
        assertThat(k.code()).as(k.err()).isZero();
        assertThat(bpdOf(k.out())).as("the one-sample figure does not change with K").isEqualTo(bpdOf(one.out()));
        assertThat(k.out()).containsPattern("4-sample bound \\d+\\.\\d{4} bpd \\(importance-weighted")
                .contains("uniform dequantisation").contains("recorded in ");
        var o = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertThat(o.get("samples").asInt()).isEqualTo(4);
        assertThat(o.get("images").asInt()).isEqualTo(32);
        assertThat(o.get("bpd").asDouble()).isCloseTo(bpdOf(one.out()), within(5e-5));
        assertThat(o.get("bpd_bound").asDouble()).isLessThan(o.get("bpd_mean_of_samples").asDouble());
        assertThat(o.get("checkpoint").asText()).isEqualTo("checkpoints/best.safetensors");
        var recorded = woodflow.train.EvalLog.read(run);
        assertThat(recorded).isNotEmpty();
        assertThat(recorded.get(recorded.size() - 1)).isEqualTo(o);
        fails(cli("eval", "--checkpoint", run.toString(), "--samples", "0"), "--samples must be at least 1, got 0");
        fails(cli("eval", "--checkpoint", run.toString(), "--samples", "1000000000"), "--samples 1000000000 is "
                + "above the maximum of 4096");
        Path best = run.resolve("checkpoints/best.safetensors");
        fails(cli("eval", "--checkpoint", best.toString(), "--json", best.toString()),
                "(--checkpoint) that this command reads");
        // and no eval record lands in a run folder except the run's own evals.jsonl
        fails(cli("eval", "--checkpoint", best.toString(), "--json", run.resolve("eval.json").toString()),
                "run folder");
    }

    /** {@code --dequantization variational} on the command line: the run trains its dequantiser, inspect shows it. */
    @Test
    void trainWithAVariationalDequantiserFromTheCommandLine(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("v");
        Outcome o = cli("train", "--config", config.toString(), "--out", out.toString(), "--iterations", "4",
                "--eval-every", "4", "--dequantization", "variational", "--no-report");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("dequantisation: variational (4 coupling steps, 32 hidden channels)")
                .contains("0 skipped steps");
        assertThat(Files.readString(out.resolve("config.yaml"))).contains("dequantization: \"variational\"");
        Outcome i = cli("inspect", "--checkpoint", out.toString());
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("VariationalDequantizer").contains("of which the dequantiser");
        fails(cli("train", "--config", config.toString(), "--out", dir.resolve("typo").toString(),
                "--dequantization", "variatonal"), "did you mean variational?");
    }

    @Test
    void evalSampleInspectAndScore(@TempDir Path dir) throws Exception {
        Outcome e = cli("eval", "--checkpoint", run.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).containsPattern("test bpd \\d+\\.\\d+ over 32 images");
        Outcome eb = cli("eval", "--checkpoint", run.toString(), "--precision", "bf16-mixed");
        assertThat(eb.code()).as(eb.err()).isZero();
        assertThat(eb.out()).contains("bf16-mixed");
        double fp32 = bpdOf(e.out()), bf16 = bpdOf(eb.out());
        assertThat(bf16).as("bf16-mixed evaluation of the same parameters").isCloseTo(fp32, within(0.05));
        fails(cli("eval", "--checkpoint", run.toString(), "--precision", "fp8"), "unknown precision 'fp8'");

        Path png = dir.resolve("grid.png");
        Outcome s = cli("sample", "--checkpoint", run.toString(), "--temperature", "0.7", "-n", "16", "--out",
                png.toString());
        assertThat(s.code()).as(s.err()).isZero();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isGreaterThan(8 * 8);

        Outcome sw = cli("sample", "--checkpoint", run.toString(), "--sweep", "0.5,1.0", "-n", "4", "--out",
                dir.resolve("sweep.png").toString());
        assertThat(sw.code()).as(sw.err()).isZero();

        Outcome i = cli("inspect", "--checkpoint", run.toString());
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("level0.step0.permutation").contains("WoodburyTransform").contains("total");

        // score: a smooth image from the training distribution scores better (fewer bits) than pure noise
        Path images = dir.resolve("images");
        Files.createDirectories(images);
        Random r = new Random(3);
        BufferedImage noise = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) noise.getRaster().setSample(x, y, 0, r.nextInt(256));
        ImageIO.write(noise, "png", images.resolve("noise.png").toFile());
        ImageIO.write(noise, "png", images.resolve("a, \"quoted\" name.png").toFile());
        woodflow.data.EmbeddedSource src = new woodflow.data.EmbeddedSource(1, 1, 8, 0, 0);
        BufferedImage train = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = src.image(0);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) train.getRaster().setSample(x, y, 0, px[y * 8 + x] & 255);
        ImageIO.write(train, "png", images.resolve("train.png").toFile());
        Files.writeString(images.resolve("broken.png"), "not a png");
        Path csv = dir.resolve("scores.csv");
        Outcome sc = cli("score", "--checkpoint", run.toString(), "--images", images.toString(), "--out",
                csv.toString());
        assertThat(sc.code()).as(sc.err()).isZero();
        assertThat(sc.out()).contains("skipped 1 undecodable");
        double noiseBpd = Double.NaN, trainBpd = Double.NaN, commaBpd = Double.NaN;
        var schema = com.fasterxml.jackson.dataformat.csv.CsvSchema.emptySchema().withHeader();
        try (com.fasterxml.jackson.databind.MappingIterator<java.util.Map<String, String>> rows =
                new com.fasterxml.jackson.dataformat.csv.CsvMapper().readerFor(java.util.Map.class).with(schema)
                        .readValues(csv.toFile())) {
            for (java.util.Map<String, String> row : rows.readAll()) {
                assertThat(row).containsOnlyKeys("file", "bpd");
                double bpd = Double.parseDouble(row.get("bpd"));
                if (row.get("file").endsWith("noise.png")) noiseBpd = bpd;
                if (row.get("file").endsWith("train.png")) trainBpd = bpd;
                if (row.get("file").endsWith("a, \"quoted\" name.png")) commaBpd = bpd;
            }
        }
        assertThat(trainBpd).isLessThan(noiseBpd);
        // the same pixels as noise.png (other dequantisation noise): read back as one field, with its own number
        assertThat(commaBpd).as("a file name with a comma and quotes is one CSV field")
                .isCloseTo(noiseBpd, org.assertj.core.data.Offset.offset(0.05));
    }

    private static void fails(Outcome o, String reason) {
        assertThat(o.code()).as(o.out() + o.err()).isNotZero();
        assertThat(o.err()).contains(reason);
        assertThat(o.err().strip().lines().count()).as("one line: " + o.err()).isEqualTo(1);
        assertThat(o.err()).doesNotContain("Exception raised from").doesNotContain("\tat ");
    }

    @Test
    void everyErrorPathPrintsItsReasonAndExitsNonZero(@TempDir Path dir) throws Exception {
        fails(cli("train", "--preset", "no-such-preset"), "unknown preset 'no-such-preset'");
        fails(cli("train"), "say what to train");
        fails(cli("train", "--preset", "demo", "--config", config.toString()), "either --preset or --config");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, TINY.replace("hidden: 8", "hiden: 8"));
        fails(cli("train", "--config", bad.toString(), "--out", dir.resolve("x").toString()), "unknown key 'hiden'");
        Path impossible = dir.resolve("impossible.yaml");
        Files.writeString(impossible, TINY.replace("height: 8, width: 8", "height: 10, width: 10"));
        fails(cli("train", "--config", impossible.toString(), "--out", dir.resolve("y").toString()),
                "image height 10 is not divisible by 2^L = 4");
        fails(cli("train", "--config", dir.resolve("missing.yaml").toString()), "does not exist");
        fails(cli("train", "--config", config.toString(), "--out", run.toString()), "already holds checkpoints");
        fails(cli("train", "--config", config.toString(), "--precision", "fp8", "--out", dir.resolve("z").toString()),
                "unknown precision 'fp8': use fp32 or bf16-mixed");
        for (String t : new String[] {"0", "-1", "NaN", "Infinity"}) {
            fails(cli("sample", "--checkpoint", run.toString(), "--temperature", t, "--out",
                    dir.resolve("t.png").toString()), "temperature must be a finite number > 0");
        }
        fails(cli("sample", "--checkpoint", dir.resolve("nope.safetensors").toString(), "--out",
                dir.resolve("t.png").toString()), "does not exist");
        Path corrupt = dir.resolve("corrupt.safetensors");
        byte[] good = Files.readAllBytes(run.resolve("checkpoints/best.safetensors"));
        byte[] flipped = good.clone();
        flipped[flipped.length - 5] ^= 0x55;
        Files.write(corrupt, flipped);
        fails(cli("eval", "--checkpoint", corrupt.toString()), "is corrupt");
        Files.write(corrupt, java.util.Arrays.copyOf(good, good.length / 2));
        fails(cli("eval", "--checkpoint", corrupt.toString()), "truncated");
        Path notDir = dir.resolve("file");
        Files.writeString(notDir, "x");
        fails(cli("sample", "--checkpoint", run.toString(), "--out", notDir.resolve("g.png").toString()),
                "cannot write");
        fails(cli("score", "--checkpoint", run.toString(), "--images", dir.resolve("none").toString()),
                "is not a folder");
        Path wrongData = dir.resolve("wrong-data.yaml");
        Files.writeString(wrongData, TINY.replace("kind: embedded", "kind: cifar10, path: " + dir.resolve("nodata")));
        fails(cli("train", "--config", wrongData.toString(), "--out", dir.resolve("w").toString()), "nodata");
        Outcome usage = cli("presets", "--bogus-option");
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("Unknown option: '--bogus-option'");
    }

    @Test
    void usageErrorsSayWhatIsWrongOnOneLineAndPointToHelp() {
        Outcome unknownCommand = cli("trian");
        assertThat(unknownCommand.code()).isEqualTo(2);
        assertThat(unknownCommand.err()).startsWith("woodflow: error: unexpected argument 'trian'");
        assertThat(unknownCommand.err()).contains("Did you mean: woodflow train?").contains("woodflow --help");
        assertThat(unknownCommand.err()).doesNotContain("Commands:");   // no page of usage to scroll past

        Outcome badValue = cli("train", "--preset", "demo", "--iterations", "lots");
        assertThat(badValue.code()).isEqualTo(2);
        assertThat(badValue.err()).startsWith("woodflow: error: Invalid value for option '--iterations'");
        assertThat(badValue.err()).contains("woodflow train --help");
        assertThat(badValue.err().lines().count()).isLessThanOrEqualTo(3);

        Outcome missing = cli("eval");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("woodflow: error: Missing required option: '--checkpoint=<checkpoint>'");
        assertThat(missing.err()).contains("woodflow eval --help");
    }

    private static double bpdOf(String out) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("bpd (\\d+\\.\\d+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
