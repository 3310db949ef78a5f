package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.CliTest.cli;

/**
 * The research tools on the command line, on tiny runs: the moving average of the weights ({@code --weights}),
 * learning-rate schedules, class-conditional models ({@code sample --class}, conditional eval, score by class) and
 * latent interpolation; each mistake a one-line error.
 */
class ToolkitCliTest {
    static Path conditional, averaged, plain, images;

    static final String CONDITIONAL = """
            model: {channels: 3, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4], conditional: class, class_loss_weight: 0.01}
            data: {kind: embedded, style: shapes, count: 128, holdout: 16, n_bits: 5}
            train: {batch: 8, iterations: 12, eval_every: 6, log_every: 3, seed: 1, ema: 0.99,
                    schedule: {kind: cosine, floor: 0.1}, warmup: 3}
            """;

    static final String AVERAGED = """
            model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [2, 2]}
            data: {kind: embedded, count: 64, holdout: 8, n_bits: 8}
            train: {batch: 8, iterations: 8, eval_every: 8, log_every: 4, seed: 2, ema: 0.9,
                    schedule: exponential}
            """;

    @BeforeAll
    static void train(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("c.yaml"), CONDITIONAL);
        Files.writeString(dir.resolve("a.yaml"), AVERAGED);
        conditional = dir.resolve("cond");
        averaged = dir.resolve("avg");
        CliTest.Outcome c = cli("train", "--config", dir.resolve("c.yaml").toString(), "--out", conditional.toString(),
                "--no-report");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("classes: disc, square, ring").contains("cosine")
                .contains("moving average of the weights").containsPattern("lr \\d\\.\\d\\de-\\d\\d");
        CliTest.Outcome a = cli("train", "--config", dir.resolve("a.yaml").toString(), "--out", averaged.toString(),
                "--no-report");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).contains("exponential (x0.95 per epoch while above 0.01 of train.lr)");
        plain = dir.resolve("plain");
        // the same run without the average, by the command-line override
        CliTest.Outcome p = cli("train", "--config", dir.resolve("a.yaml").toString(), "--ema", "0", "--schedule",
                "constant", "--out", plain.toString(), "--no-report");
        assertThat(p.code()).as(p.err()).isZero();
        images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < 2; i++) {
            BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
            var g = img.createGraphics();
            g.setColor(java.awt.Color.DARK_GRAY);
            g.fillRect(0, 0, 20, 20);
            g.setColor(i == 0 ? java.awt.Color.RED : java.awt.Color.BLUE);
            if (i == 0) g.fillOval(3, 3, 14, 14);
            else g.fillRect(4, 4, 12, 12);
            g.dispose();
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
    }

    @Test
    void weightsChooseTheAverageOrTheTrainedOnes(@TempDir Path dir) {
        CliTest.Outcome ema = cli("eval", "--checkpoint", averaged.toString());
        assertThat(ema.code()).as(ema.err()).isZero();
        assertThat(ema.out()).contains("weights ema (averaged, decay 0.9)");
        CliTest.Outcome raw = cli("eval", "--checkpoint", averaged.toString(), "--weights", "raw");
        assertThat(raw.code()).as(raw.err()).isZero();
        assertThat(raw.out()).contains("weights raw");
        assertThat(raw.out().replaceAll(".*test bpd ([0-9.]+).*\\R?.*", "$1"))
                .isNotEqualTo(ema.out().replaceAll(".*test bpd ([0-9.]+).*\\R?.*", "$1"));
        CliTest.Outcome typo = cli("eval", "--checkpoint", averaged.toString(), "--weights", "emma");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("unknown --weights 'emma'").contains("did you mean ema?");
        CliTest.Outcome export = cli("export", "--checkpoint", averaged.toString(), "--out",
                dir.resolve("m.pt").toString());
        assertThat(export.code()).as(export.err()).isZero();
        assertThat(export.out()).contains("weights: ema (averaged, decay 0.9) (--weights raw exports the trained ones)");
        CliTest.Outcome none = cli("eval", "--checkpoint", plain.toString(), "--weights", "ema", "--limit", "4");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err().strip()).doesNotContain("\n").contains("holds no averaged weights")
                .contains("--weights raw");
        CliTest.Outcome schedule = cli("train", "--preset", "demo", "--schedule", "cosin", "--out",
                dir.resolve("never").toString());
        assertThat(schedule.code()).isEqualTo(2);
        assertThat(schedule.err()).contains("unknown train.schedule 'cosin'").contains("did you mean cosine?");
        CliTest.Outcome decay = cli("train", "--preset", "demo", "--ema", "1.5", "--out", dir.resolve("never").toString());
        assertThat(decay.code()).isEqualTo(1);
        assertThat(decay.err()).contains("ema must be a decay in (0, 1)");
        assertThat(dir.resolve("never")).doesNotExist();
        CliTest.Outcome rawDefault = cli("eval", "--checkpoint", plain.toString(), "--limit", "4");
        assertThat(rawDefault.out()).contains("weights raw");
    }

    @Test
    void classConditionalSamplingEvaluationAndScoring(@TempDir Path dir) throws Exception {
        CliTest.Outcome s = cli("sample", "--checkpoint", conditional.toString(), "--class", "ring", "-n", "8",
                "--out", dir.resolve("rings.png").toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(ImageIO.read(dir.resolve("rings.png").toFile())).isNotNull();
        CliTest.Outcome rows = cli("sample", "--checkpoint", conditional.toString(), "-n", "24", "--out",
                dir.resolve("rows.png").toString());
        assertThat(rows.code()).as(rows.err()).isZero();
        CliTest.Outcome sweep = cli("sample", "--checkpoint", conditional.toString(), "--class", "disc", "--sweep",
                "0.5,1.0", "-n", "4", "--out", dir.resolve("sweep.png").toString());
        assertThat(sweep.code()).as(sweep.err()).isZero();
        CliTest.Outcome typo = cli("sample", "--checkpoint", conditional.toString(), "--class", "rnig", "--out",
                dir.resolve("x.png").toString());
        assertThat(typo.code()).isEqualTo(1);
        assertThat(typo.err().strip()).doesNotContain("\n").contains("--class rnig is not a class of checkpoint")
                .contains("(its classes: disc, square, ring)").contains("did you mean ring?");
        CliTest.Outcome unconditional = cli("sample", "--checkpoint", averaged.toString(), "--class", "ring", "--out",
                dir.resolve("y.png").toString());
        assertThat(unconditional.code()).isEqualTo(1);
        assertThat(unconditional.err().strip()).doesNotContain("\n").contains("is not class-conditional");
        assertThat(Files.exists(dir.resolve("y.png"))).isFalse();
        CliTest.Outcome inspect = cli("inspect", "--checkpoint", conditional.toString());
        assertThat(inspect.code()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("classes in turn (disc, square, ring)");
        CliTest.Outcome preset = cli("inspect", "--preset", "demo-conditional");
        assertThat(preset.code()).as(preset.err()).isZero();
        // the benchmark and the doctor run a conditional model for the classes in turn
        Path config = conditional.resolve("config.yaml");
        CliTest.Outcome bench = cli("bench", "train", "--config", config.toString(), "--iterations", "2", "--warmup",
                "1");
        assertThat(bench.code()).as(bench.err()).isZero();
        CliTest.Outcome doctor = cli("doctor", "--config", config.toString());
        assertThat(doctor.code()).as(doctor.err()).isZero();
        CliTest.Outcome e = cli("eval", "--checkpoint", conditional.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("class-conditional: each image scored given its own class");
        CliTest.Outcome score = cli("score", "--checkpoint", conditional.toString(), "--images", images.toString(),
                "--out", dir.resolve("s.csv").toString());
        assertThat(score.code()).as(score.err()).isZero();
        List<String> csv = Files.readAllLines(dir.resolve("s.csv"));
        assertThat(csv.get(0)).isEqualTo("file,bpd,likeliest_class");
        assertThat(csv).hasSize(3);
        assertThat(csv.get(1)).matches(".*,[0-9.]+,(disc|square|ring)");
        CliTest.Outcome given = cli("score", "--checkpoint", conditional.toString(), "--images", images.toString(),
                "--class", "square", "--out", dir.resolve("t.csv").toString());
        assertThat(given.code()).as(given.err()).isZero();
        assertThat(given.out()).contains("given class square for every image");
        CliTest.Outcome export = cli("export", "--checkpoint", conditional.toString(), "--out",
                dir.resolve("c.pt").toString());
        assertThat(export.code()).isEqualTo(1);
        assertThat(export.err()).contains("class-conditional model").contains("no class-conditional priors");
        assertThat(Files.exists(dir.resolve("c.pt"))).isFalse();
    }

    @Test
    void interpolateWritesALabelledStrip(@TempDir Path dir) throws Exception {
        Path a = images.resolve("img0.png"), b = images.resolve("img1.png");
        CliTest.Outcome o = cli("interpolate", "--checkpoint", averaged.toString(), a.toString(), b.toString(),
                "--steps", "6", "--mode", "both", "--out", dir.resolve("path.png").toString());
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("12 images").contains("linear and spherical");
        BufferedImage strip = ImageIO.read(dir.resolve("path.png").toFile());
        assertThat(strip.getWidth()).isGreaterThan(strip.getHeight());
        CliTest.Outcome c = cli("interpolate", "--checkpoint", conditional.toString(), a.toString(), b.toString(),
                "--out", dir.resolve("c.png").toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).containsPattern("classes: A (disc|square|ring), B (disc|square|ring)");
        CliTest.Outcome bad = cli("interpolate", "--checkpoint", averaged.toString(), a.toString(), b.toString(),
                "--mode", "spherial", "--out", dir.resolve("d.png").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("did you mean spherical?");
        CliTest.Outcome steps = cli("interpolate", "--checkpoint", averaged.toString(), a.toString(), b.toString(),
                "--steps", "1", "--out", dir.resolve("e.png").toString());
        assertThat(steps.code()).isEqualTo(1);
        assertThat(steps.err()).contains("--steps must be between 2 and 64");
        CliTest.Outcome onInput = cli("interpolate", "--checkpoint", averaged.toString(), a.toString(), b.toString(),
                "--out", b.toString());
        assertThat(onInput.code()).isEqualTo(1);
        assertThat(onInput.err()).contains("that this command reads: writing there would destroy it");
        CliTest.Outcome missing = cli("interpolate", "--checkpoint", averaged.toString(), a.toString(),
                dir.resolve("nope.png").toString(), "--out", dir.resolve("f.png").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.png does not exist");
    }
}
