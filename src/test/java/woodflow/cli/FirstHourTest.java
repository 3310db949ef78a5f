package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.BadInputTest.config;
import static woodflow.cli.BadInputTest.png;
import static woodflow.cli.CliTest.cli;

/**
 * What a new user trips over in the first hour (issue 20): each case a command line a user typed, checked for a
 * clear one-line reason (or a warning) instead of a silent acceptance, a wrong blame or an internal file name.
 */
class FirstHourTest {
    static final String MODEL = BadInputTest.MODEL;
    static Path root;
    static Path run;

    @BeforeAll
    static void trainOneRun(@TempDir Path dir) throws Exception {
        root = dir;
        run = dir.resolve("run");
        Path cfg = write("good", config(MODEL, "{kind: embedded, count: 64, holdout: 16}", "iterations: 4"));
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--no-report");
        assertThat(o.code()).as(o.err()).isZero();
    }

    static Path write(String name, String yaml) throws Exception {
        Path p = root.resolve(name + ".yaml");
        Files.writeString(p, yaml);
        return p;
    }

    /** A folder of {@code n} 8x8 grey PNGs (no train/test sub-folders: a seeded hold-out). */
    static Path images(String name, int n) throws Exception {
        Path d = Files.createDirectories(root.resolve(name));
        Random r = new Random(n);
        for (int i = 0; i < n; i++) Files.write(d.resolve(String.format("img%03d.png", i)), png(r));
        return d;
    }

    @Test
    void aHeldOutFolderTrainsIntoANewRunFolderAndWritesItsHoldoutList() throws Exception {
        Path d = images("holdout-images", 12);
        Path cfg = write("folder-holdout", config(MODEL, "{kind: folder, path: " + d + ", holdout: 4}", ""));
        Path out = root.resolve("new/deeper/run");
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", out.toString(), "--no-report");
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(Files.readAllLines(out.resolve("holdout.txt"))).hasSize(4).allMatch(l -> l.endsWith(".png"));
    }

    @Test
    void evalDataPathIsUsedOrRefused() throws Exception {
        // embedded data reads no files: --data-path cannot apply
        BadInputTest.fails(cli("eval", "--checkpoint", run.toString(), "--data-path", root.resolve("x").toString()),
                "--data-path", "data.kind embedded");
        BadInputTest.fails(cli("train", "--config", write("emb", config(MODEL, "{kind: embedded, count: 64, "
                + "holdout: 16}", "")).toString(), "--out", root.resolve("emb-run").toString(), "--data-path",
                root.resolve("x").toString()), "--data-path", "data.kind embedded");

        // a folder run evaluated on another folder: the output names the folder it read
        Path a = images("eval-a", 12), b = images("eval-b", 20);
        Path cfg = write("folder-a", config(MODEL, "{kind: folder, path: " + a + ", holdout: 4}", ""));
        Path out = root.resolve("folder-a-run");
        CliTest.Outcome t = cli("train", "--config", cfg.toString(), "--out", out.toString(), "--no-report");
        assertThat(t.code()).as(t.err()).isZero();
        CliTest.Outcome e = cli("eval", "--checkpoint", out.toString(), "--data-path", b.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("over 4 images").contains(b.toString());
    }

    @Test
    void latentDimensionsLargerThanTheLevelAreFlagged() throws Exception {
        // level 0 of a 1x8x8 image has 4 channels and 16 pixels; level 1 has 8 channels and 4 pixels
        Path cfg = write("big-d", config(MODEL.replace("d_c: [2, 2]", "d_c: [6, 2]").replace("d_s: [4, 4]",
                "d_s: [4, 9]"), "{kind: embedded, count: 64, holdout: 16}", ""));
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", root.resolve("big-d-run").toString(),
                "--no-report");
        assertThat(o.code()).as(o.err()).isZero();
        String note = "note: latent dimensions above what their level mixes (d_c[0] = 6 > 4 channels, d_s[1] = 9 > 4 "
                + "pixels) add parameters but no expressiveness, as in the paper's code; for a leaner model set "
                + "d_c: [4, 2], d_s: [4, 4]";
        assertThat(o.out()).contains(note).doesNotContain("warning:");
        CliTest.Outcome i = cli("inspect", "--config", cfg.toString());
        assertThat(i.out() + i.err()).contains(note);
    }

    @Test
    void sampleRefusesHugeCountsAFolderAsOutputAndBlamesAHugeTemperature() throws Exception {
        BadInputTest.fails(cli("sample", "--checkpoint", run.toString(), "-n", "100000", "--out",
                root.resolve("many.png").toString()), "-n 100000", "at most");
        BadInputTest.fails(cli("sample", "--checkpoint", run.toString(), "--sweep", "0.5,0.7", "-n", "4000",
                "--out", root.resolve("many.png").toString()), "at most");
        Path folder = Files.createDirectories(root.resolve("a-folder"));
        CliTest.Outcome o = cli("sample", "--checkpoint", run.toString(), "--out", folder.toString());
        BadInputTest.fails(o, "--out " + folder + " is a folder");
        assertThat(o.err()).doesNotContain(".tmp-");
        CliTest.Outcome hot = cli("sample", "--checkpoint", run.toString(), "--temperature", "1e9", "-n", "4",
                "--out", root.resolve("hot.png").toString());
        BadInputTest.fails(hot, "temperature 1.0E9 is too large", "0.5 to 1");
        assertThat(hot.err()).doesNotContain("numerically broken");
    }

    @Test
    void presetsAreAlignedColumnsAndAMistypedNameGetsASuggestion() {
        CliTest.Outcome o = cli("presets");
        assertThat(o.code()).as(o.err()).isZero();
        var lines = o.out().lines().toList();
        int description = lines.get(0).indexOf("description");
        assertThat(description).isPositive();
        for (String l : lines.subList(1, lines.size())) {
            assertThat(l.charAt(description - 1)).as(l).isEqualTo(' ');
            assertThat(l.charAt(description)).as(l).isNotEqualTo(' ');
            assertThat(l.substring(description - 2, description)).as(l).isEqualTo("  ");
        }
        assertThat(o.out()).contains("(paper, Tables 2–3; learning rate as the official code").doesNotContain("seed Tables");

        BadInputTest.fails(cli("train", "--preset", "fmnist-woodbry"), "unknown preset 'fmnist-woodbry'; did you "
                + "mean fmnist-woodbury?", "`woodflow presets` lists all");
        CliTest.Outcome far = cli("inspect", "--preset", "qqqqqqqq");
        BadInputTest.fails(far, "unknown preset 'qqqqqqqq'");
        assertThat(far.err()).doesNotContain("did you mean").doesNotContain("cifar10-macow");
    }

    @Test
    void aConfigThatDoesNotFitTheCheckpointListsAFewDifferencesAndNamesTheOptionUsed() throws Exception {
        Path other = write("wider", config(MODEL.replace("hidden: 8", "hidden: 16").replace("steps: 1", "steps: 2"),
                "{kind: embedded, count: 64, holdout: 16}", "iterations: 8"));
        CliTest.Outcome o = cli("train", "--config", other.toString(), "--out", run.toString(), "--resume",
                "--no-report");
        BadInputTest.fails(o, "model.steps is 1 in the checkpoint, 2 in --config " + other,
                "model.hidden is 8 in the checkpoint, 16 in --config " + other, "saved tensors do not fit",
                "resume with the run's own config (omit --config " + other + ")");
        assertThat(o.err().length()).as(o.err()).isLessThan(900);
        CliTest.Outcome p = cli("train", "--preset", "demo", "--out", run.toString(), "--resume", "--no-report");
        BadInputTest.fails(p, "in --preset demo", "(omit --preset demo)");
    }

    @Test
    void dataInspectRecognisesTheFilesOfAFolderWhateverItsName() throws Exception {
        Path d = Files.createDirectories(root.resolve("my-download"));
        Files.write(d.resolve("train-images-idx3-ubyte"), BadInputTest.idx(0x803, 16, 28, 28, 16 * 784));
        Files.write(d.resolve("t10k-images-idx3-ubyte"), BadInputTest.idx(0x803, 8, 28, 28, 8 * 784));
        CliTest.Outcome o = cli("data", "inspect", d.toString(), "--out", root.resolve("idx-grid.png").toString());
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("data: kind idx (guessed from train-images-idx3-ubyte)").contains("16 images");

        Path empty = Files.createDirectories(root.resolve("nothing-here"));
        Files.writeString(empty.resolve("notes.txt"), "x");
        BadInputTest.fails(cli("data", "inspect", empty.toString(), "--out", root.resolve("e.png").toString()),
                "no PNG, JPEG or WebP images", "--kind");
    }

    @Test
    void sampleGridsAreEnlargedAndLabelled() throws Exception {
        Path png = root.resolve("labelled.png");
        CliTest.Outcome o = cli("sample", "--checkpoint", run.toString(), "-n", "16", "--out", png.toString());
        assertThat(o.code()).as(o.err()).isZero();
        java.awt.image.BufferedImage g = javax.imageio.ImageIO.read(png.toFile());
        // 8 columns of 8-pixel images, each enlarged 8 times (64 pixels), with 2-pixel padding and a label margin
        assertThat(g.getWidth()).isGreaterThan(8 * (8 + 2) * 8);
        assertThat(g.getRGB(1, 1) & 0xFFFFFF).as("a white margin for the labels").isEqualTo(0xFFFFFF);
        Path sweep = root.resolve("sweep.png");
        o = cli("sample", "--checkpoint", run.toString(), "--sweep", "0.5,1.0", "-n", "3", "--out", sweep.toString());
        assertThat(o.code()).as(o.err()).isZero();
        g = javax.imageio.ImageIO.read(sweep.toFile());
        assertThat(g.getHeight()).isGreaterThan(2 * (8 + 2) * 8);
    }

    @Test
    void theReportSaysWhatRanWhenAndHowShowsRealImagesAndLinksTheFiles() throws Exception {
        Path cfg = write("report", config(MODEL, "{kind: embedded, count: 64, holdout: 16}", "log_every: 10, "
                + "eval_every: 100, iterations: 100"));
        Path out = root.resolve("report-run");
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", out.toString(), "--iterations", "6",
                "--log-every", "1");
        assertThat(o.code()).as(o.err()).isZero();
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html)
                .contains("<h1>woodbury, affine coupling, L = 2 × K = 1, on embedded 1×8×8: 6 iterations</h1>")
                .containsPattern("written 20\\d\\d-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC by woodflow ")
                .contains("command: <code>woodflow train --config " + cfg)
                .contains("training images (real data)").contains("samples, T = 0.7")
                .contains("<a href=\"config.yaml\">").contains("<a href=\"metrics.jsonl\">")
                .contains("<a href=\"checkpoints/best.safetensors\">").doesNotContain("class=\"warn\"");
        // the curve has a point per log line: 6 train records
        long trainRecords = Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("train_bpd")).count();
        assertThat(trainRecords).isEqualTo(6);

        // skipped steps are flagged at the top
        woodflow.train.Checkpoint ck = woodflow.train.Checkpoint.read(out.resolve("checkpoints/best.safetensors"));
        var r = new woodflow.train.Trainer.Result(6, 7.9, 7.9, 100, 3, 1.0, out);
        try (var data = ck.config().openData()) {
            woodflow.report.RunReport.write(out, ck.model(), ck.config(), data.train(), data.test(), r, 1.0);
        }
        assertThat(Files.readString(out.resolve("report.html"))).contains("<p class=\"warn\">Warning: 3 training "
                + "steps were skipped");
    }

    @Test
    void moreBadInputsFoundByTryingEveryCommand() throws Exception {
        BadInputTest.fails(cli("eval", "--checkpoint", run.toString(), "--limit", "0"), "--limit must be at least 1");
        BadInputTest.fails(cli("eval", "--checkpoint", run.toString(), "--limit", "-5"), "--limit must be at least 1");
        BadInputTest.fails(cli("sample", "--checkpoint", run.toString(), "--sweep", ",", "--out",
                root.resolve("e.png").toString()), "--sweep needs at least one temperature");
        BadInputTest.fails(cli("sample", "--checkpoint", run.toString(), "--out", root.resolve("grid.jpg")
                .toString()), "give a file name ending in .png");
        BadInputTest.fails(cli("inspect", "--preset", "demo", "--batch", "0"), "--batch must be at least 1");
        Path cfg = write("zero", config(MODEL, "{kind: embedded, count: 64, holdout: 16}", ""));
        BadInputTest.fails(cli("train", "--config", cfg.toString(), "--out", root.resolve("zero-run").toString(),
                "--iterations", "0"), "--iterations must be at least 1, got 0");
        BadInputTest.fails(cli("train", "--config", run.toString(), "--out", root.resolve("r").toString()),
                "config file " + run + " is a folder", "--resume` continues the run");
        CliTest.Outcome done = cli("train", "--out", run.toString(), "--resume", "--iterations", "2", "--no-report");
        assertThat(done.code()).as(done.err()).isZero();
        assertThat(done.out()).contains("warning: the run is already at iteration 4, at or past its 2 iterations: "
                + "nothing to train");
    }
}
