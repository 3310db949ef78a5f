package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static woodflow.cli.BadInputTest.fails;
import static woodflow.cli.CliTest.cli;

/**
 * Bad input a probe found answered wrongly: each is refused on one line that names the option or key and a fix that
 * exists, or, for a usage error, in plain words rather than the parser's (issue 31's rule).
 */
class ProbeFindingsTest {
    static Path root;
    static Path run;
    static Path cfg;

    @BeforeAll
    static void trainOneRun(@TempDir Path dir) throws Exception {
        root = dir;
        cfg = Files.writeString(dir.resolve("tiny.yaml"), CliTest.TINY);
        run = dir.resolve("run");
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--iterations", "2",
                "--eval-every", "2", "--no-report", "--quiet");
        assertThat(o.code()).as(o.err()).isZero();
    }

    /** A usage error: exit 2, its first line in plain words, none of the parser's or Java's. */
    static void usage(CliTest.Outcome o, String line) {
        assertThat(o.code()).as(o.err()).isEqualTo(2);
        assertThat(o.err().lines().findFirst().orElse("")).isEqualTo("woodflow: error: " + line);
        assertThat(o.err()).doesNotContain("a double").doesNotContain("a long").doesNotContain("an int")
                .doesNotContain("Unmatched").doesNotContain("positional parameter").doesNotContain("Exception");
    }

    @Test
    void dataInspectRefusesASampleBelowOne() {
        for (String n : new String[] {"-1", "0"}) {
            CliTest.Outcome o = cli("data", "inspect", "--kind", "embedded", "--sample", n, "--out",
                    root.resolve("g" + n + ".png").toString());
            fails(o, "--sample must be at least 1", "got " + n);
            assertThat(o.out()).doesNotContain("over 0 images");
        }
    }

    @Test
    void dataInspectNamesAFixThatExistsForAnOccupiedHoldoutListAndPrintsNoStatistics() throws Exception {
        Path images = Files.createDirectories(root.resolve("pics/train"));
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 6; i++) Files.write(images.resolve("p" + i + ".png"), BadInputTest.png(r));
        Path out = Files.createDirectories(root.resolve("hd"));
        Files.writeString(out.resolve("holdout.txt"), "my own notes\nmore\n");
        CliTest.Outcome o = cli("data", "inspect", root.resolve("pics").toString(), "--kind", "folder", "--out",
                out.resolve("grid.png").toString());
        fails(o, out.resolve("holdout.txt").toString(), "choose an --out in another folder");
        assertThat(o.err()).doesNotContain("--force").doesNotContain("--out's");
        assertThat(o.out()).doesNotContain("pixel mean");
    }

    @Test
    void importRefusesALogscaleFactorThatIsNotAPositiveNumber() {
        for (String f : new String[] {"NaN", "Infinity", "0", "-1"}) {
            fails(cli("import", "--checkpoint", root.resolve("m.pt").toString(), "--config", cfg.toString(), "--out",
                    root.resolve("imp").toString(), "--logscale-factor", f), "--logscale-factor must be a finite "
                    + "number > 0");
        }
    }

    @Test
    void importReadsAConfigFileWhateverItsName() throws Exception {
        Path noSuffix = Files.copy(cfg, root.resolve("tinyconf"));
        CliTest.Outcome o = cli("import", "--checkpoint", root.resolve("missing.pt").toString(), "--config",
                noSuffix.toString(), "--out", root.resolve("imp2").toString());
        assertThat(o.err()).doesNotContain("unknown preset");
        fails(cli("import", "--checkpoint", root.resolve("missing.pt").toString(), "--config", "nosuchpreset",
                "--out", root.resolve("imp3").toString()), "unknown preset 'nosuchpreset'");
    }

    @Test
    void interpolateSaysAFolderIsAFolder() throws Exception {
        Path folder = Files.createDirectories(root.resolve("a-folder"));
        Path b = Files.write(root.resolve("b.png"), BadInputTest.png(new java.util.Random(1)));
        fails(cli("interpolate", "--checkpoint", run.toString(), folder.toString(), b.toString(), "--out",
                root.resolve("i.png").toString()), "image " + folder + " is a folder, not an image file");
    }

    @Test
    void anEmptyEmbeddedTrainingSetNamesTheEmbeddedKeys() throws Exception {
        Path zero = Files.writeString(root.resolve("count0.yaml"), CliTest.TINY.replace("count: 256", "count: 0"));
        CliTest.Outcome o = cli("train", "--config", zero.toString(), "--out", root.resolve("c0").toString(),
                "--no-report");
        fails(o, "the training set is empty", "data.count");
        assertThat(o.err()).doesNotContain("data.path");
        CliTest.Outcome limit = cli("train", "--config", cfg.toString(), "--out", root.resolve("c1").toString(),
                "--train-limit", "0", "--no-report");
        fails(limit, "the training set is empty", "data.train_limit is 0");
        assertThat(limit.err()).doesNotContain("data.path");
    }

    @Test
    void usageErrorsAreInPlainWords() throws Exception {
        usage(cli("sample", "--checkpoint", run.toString(), "--temperature", "abc"),
                "Invalid value for option '--temperature': 'abc' is not a number");
        usage(cli("sample", "--checkpoint", run.toString(), "--seed", "99999999999999999999"),
                "Invalid value for option '--seed': '99999999999999999999' is not a whole number");
        usage(cli("serve", root.toString(), "--port", "80x"), "Invalid value for option '--port': '80x' is not a "
                + "whole number");
        usage(cli("presets", "extra-arg"), "unexpected argument 'extra-arg'");
        Path a = Files.write(root.resolve("a1.png"), BadInputTest.png(new java.util.Random(1)));
        usage(cli("interpolate", "--checkpoint", run.toString(), a.toString(), "--out", root.resolve("x.png")
                .toString()), "interpolate takes exactly two images, got 1: name image A, then image B, e.g. woodflow "
                + "interpolate --checkpoint RUN a.png b.png --out path.png");
        assertThat(cli("interpolate", "--checkpoint", run.toString(), a.toString(), a.toString(), a.toString(),
                "--out", root.resolve("x.png").toString()).err()).startsWith("woodflow: error: interpolate takes "
                + "exactly two images, got 3");
        // picocli's suggestions stay
        CliTest.Outcome typo = cli("sampel");
        assertThat(typo.err()).startsWith("woodflow: error: unexpected argument 'sampel'").contains("sample");
    }

    @Test
    void nprocBesideALaunchersRankVariablesIsRefused() {
        assertThatThrownBy(() -> TrainCommand.checkLauncherVariables(2, Map.of("RANK", "0", "WORLD_SIZE", "2")))
                .hasMessageContaining("--nproc 2 starts its own ranks").hasMessageContaining("unset RANK and "
                        + "WORLD_SIZE");
        TrainCommand.checkLauncherVariables(2, Map.of());
        TrainCommand.checkLauncherVariables(null, Map.of("RANK", "0", "WORLD_SIZE", "2"));
    }

    @Test
    void resumeRefusesABatchThatChangesTheRuns() throws Exception {
        fails(cli("train", "--out", run.toString(), "--resume", "--batch", "4", "--no-report"),
                "--batch 4: the run " + run + " trained at batch 8; resume without --batch, or start a new run");
        assertThat(Files.readString(run.resolve("config.yaml"))).contains("batch: 8");
    }
}
