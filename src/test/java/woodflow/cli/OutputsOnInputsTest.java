package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Jvm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.BadInputTest.fails;
import static woodflow.cli.CliTest.cli;

/**
 * Issue 31, "never overwrite what the user has": every command that writes refuses an output that is, or is inside,
 * one of its inputs, before anything is written; an empty --out; an existing file of another kind (unless --force);
 * a run folder that holds other files.
 */
class OutputsOnInputsTest {
    static Path root;
    static Path run;
    static Path config;
    static Path ckpt;

    @BeforeAll
    static void trainOneRun(@TempDir Path dir) throws Exception {
        root = dir;
        config = dir.resolve("tiny.yaml");
        Files.writeString(config, "# the user's comments\n" + CliTest.TINY);
        run = dir.resolve("run");
        CliTest.Outcome o = cli("train", "--config", config.toString(), "--out", run.toString(), "--iterations", "4",
                "--eval-every", "4", "--no-report", "--quiet");
        assertThat(o.code()).as(o.err()).isZero();
        ckpt = dir.resolve("C.safetensors");
        Files.copy(run.resolve("checkpoints/best.safetensors"), ckpt);
    }

    /** The bytes of a file, to check that a refused command left it as it was. */
    static byte[] bytes(Path p) throws Exception {
        return Files.readAllBytes(p);
    }

    @Test
    void exportAndScoreOntoTheirCheckpointAreRefusedAndTheCheckpointKept() throws Exception {
        byte[] before = bytes(ckpt);
        fails(cli("export", "--checkpoint", ckpt.toString(), "--out", ckpt.toString()),
                "--out " + ckpt + " is the file " + ckpt + " (--checkpoint) that this command reads: writing there "
                        + "would destroy it; choose another --out, e.g. --out C-new.pt");
        Path images = Files.createDirectories(root.resolve("images"));
        Files.write(images.resolve("a.png"), BadInputTest.png(new Random(3)));
        fails(cli("score", "--checkpoint", ckpt.toString(), "--images", images.toString(), "--out", ckpt.toString()),
                "--out " + ckpt + " is the file " + ckpt + " (--checkpoint) that this command reads");
        // the same file spelled another way: ./x, a/../x, a symbolic link
        Path rel = Path.of("").toAbsolutePath().relativize(ckpt);
        fails(cli("export", "--checkpoint", ckpt.toString(), "--out", "./" + rel), "that this command reads");
        fails(cli("score", "--checkpoint", ckpt.toString(), "--images", images.toString(), "--out",
                images.resolve("../C.safetensors").toString()), "that this command reads");
        Path link = Files.createSymbolicLink(root.resolve("link.pt"), ckpt);
        fails(cli("export", "--checkpoint", ckpt.toString(), "--out", link.toString(), "--force"),
                "that this command reads");
        // inside a folder that is read: the run folder given as --checkpoint, the images
        fails(cli("sample", "--checkpoint", run.toString(), "--out", run.resolve("curve.png").toString()),
                "--out " + run.resolve("curve.png") + " is inside the folder " + run + " (--checkpoint)");
        fails(cli("score", "--checkpoint", run.toString(), "--images", images.toString(), "--out",
                images.resolve("scores.csv").toString()), "is inside the folder " + images + " (--images)");
        // a checkpoint file inside a run folder: the run folder is read too
        fails(cli("sample", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--out",
                run.resolve("samples/grid.png").toString()), "is inside the folder " + run);
        assertThat(bytes(ckpt)).isEqualTo(before);
    }

    @Test
    void anExistingFileIsReplacedOnlyWhenOfTheKindTheCommandWritesOrWithForce() throws Exception {
        Path notes = Files.writeString(root.resolve("notes.pt"), "my notes");
        fails(cli("export", "--checkpoint", ckpt.toString(), "--out", notes.toString()),
                "--out " + notes + " exists and is not a torch.save file (what this command writes), so it is not "
                        + "replaced: choose another --out, or pass --force to replace it");
        assertThat(Files.readString(notes)).isEqualTo("my notes");
        CliTest.Outcome forced = cli("export", "--checkpoint", ckpt.toString(), "--out", notes.toString(), "--force");
        assertThat(forced.code()).as(forced.err()).isZero();
        // the command's own kind is replaced (a second export over the first)
        CliTest.Outcome again = cli("export", "--checkpoint", ckpt.toString(), "--out", notes.toString());
        assertThat(again.code()).as(again.err()).isZero();
        Path csv = Files.writeString(root.resolve("data.csv"), "name,value\nx,1\n");
        Path images = Files.createDirectories(root.resolve("images2"));
        Files.write(images.resolve("a.png"), BadInputTest.png(new Random(4)));
        fails(cli("score", "--checkpoint", ckpt.toString(), "--images", images.toString(), "--out", csv.toString()),
                "exists and is not a CSV file that begins with the line file,bpd");
        assertThat(Files.readString(csv)).isEqualTo("name,value\nx,1\n");
        Path txt = Files.writeString(root.resolve("grid.png"), "not a picture");
        fails(cli("sample", "--checkpoint", ckpt.toString(), "--out", txt.toString(), "-n", "4"),
                "exists and is not a PNG image");
        Path jsonl = root.resolve("bench.jsonl");
        fails(cli("bench", "train", "--config", config.toString(), "--json", config.toString()),
                "--json " + config + " is the file " + config + " (--config)");
        assertThat(Files.exists(jsonl)).isFalse();
    }

    @Test
    void aRunFolderIsNewEmptyOrARunNeverAFolderHoldingOtherFiles() throws Exception {
        Path users = Files.createDirectories(root.resolve("users-folder"));
        Files.writeString(users.resolve("config.yaml"), Files.readString(config));
        Files.writeString(users.resolve("summary.json"), "{\"mine\": 1}\n");
        fails(cli("train", "--config", users.resolve("config.yaml").toString(), "--out", users.toString(),
                        "--iterations", "2"),
                "--out " + users + " holds other files and is not a woodflow run folder");
        fails(cli("train", "--config", config.toString(), "--out", users.toString(), "--iterations", "2"),
                "--out " + users + " holds other files and is not a woodflow run folder (no run.lock, the marker file "
                        + "of a run); nothing was written");
        assertThat(Files.readString(users.resolve("summary.json"))).isEqualTo("{\"mine\": 1}\n");
        assertThat(Files.readString(users.resolve("config.yaml"))).startsWith("# the user's comments");
        try (var s = Files.list(users)) {
            assertThat(s.count()).isEqualTo(2);
        }
        // the data folder, and the config, are inputs of train too
        Path data = Files.createDirectories(root.resolve("data-folder"));
        Path folderCfg = Files.writeString(root.resolve("folder.yaml"), CliTest.TINY.replace(
                "{kind: embedded, count: 256, holdout: 32, n_bits: 8}", "{kind: folder, path: " + data + "}"));
        fails(cli("train", "--config", folderCfg.toString(), "--out", data.resolve("run").toString()),
                "is inside the folder " + data + " (data.path)");
        fails(cli("import", "--checkpoint", ckpt.toString(), "--config", config.toString(), "--out",
                users.toString()), "holds other files and is not a woodflow run folder");
        // a recognised run is resumed; resuming with its own config.yaml keeps that file's comments
        Path cfg = run.resolve("config.yaml");
        Files.writeString(cfg, "# my note\n" + Files.readString(cfg));
        CliTest.Outcome resumed = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--resume",
                "--no-report", "--quiet");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(Files.readString(cfg)).startsWith("# my note\n");
    }

    @Test
    void dataBenchStudyAndSoakOutputsFollowTheSameRule() throws Exception {
        Path data = Files.createDirectories(root.resolve("pictures"));
        Files.write(data.resolve("a.png"), BadInputTest.png(new Random(5)));
        fails(cli("data", "inspect", data.toString(), "--out", data.resolve("grid.png").toString()),
                "--out " + data.resolve("grid.png") + " is inside the folder " + data + " (the data path)");
        fails(cli("data", "cache", data.toString(), "--cache-dir", data.toString()),
                "--cache-dir " + data + " is the folder " + data + " (the data path)");
        Path users = Files.createDirectories(root.resolve("users-things"));
        Files.writeString(users.resolve("thesis.tex"), "my thesis");
        fails(cli("data", "cache", data.toString(), "--cache-dir", users.toString()),
                "--cache-dir " + users + " holds other files and is not a woodflow data cache folder");
        fails(cli("bench", "layers", "--in-process", "--out", users.toString()),
                "--out " + users + " holds other files and is not a bench layers folder (no layers.csv)");
        fails(cli("compare", "--data", "embedded", "--budget", "2", "--out", users.toString()),
                "--out " + users + " holds other files and is not a woodflow study folder");
        fails(cli("soak", "--out", users.toString()), "--out " + users + " holds other files");
        fails(cli("soak", "--out", ""), "--out is empty");
        fails(cli("compare", "--data", "embedded", "--budget", "2", "--out", " "), "--out is empty");
        assertThat(Files.readString(users.resolve("thesis.tex"))).isEqualTo("my thesis");
        try (var s = Files.list(users)) {
            assertThat(s.count()).isEqualTo(1);
        }
        try (var s = Files.list(data)) {
            assertThat(s.count()).isEqualTo(1);
        }
    }

    @Test
    void anEmptyOrBlankOutIsRefusedBeforeAnythingIsWritten(@TempDir Path cwd) throws Exception {
        // as in the issue: run in a folder that holds the user's own config.yaml and summary.json
        Files.writeString(cwd.resolve("config.yaml"), "# my comments\n" + CliTest.TINY);
        Files.writeString(cwd.resolve("summary.json"), "{\"mine\": 1}\n");
        for (String out : new String[] {"", " "}) {
            Process p = Jvm.child(Main.class).args("train", "--config", "config.yaml", "--out", out, "--iterations",
                    "3").processBuilder().directory(cwd.toFile()).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isEqualTo(1);
            assertThat(err.strip()).isEqualTo("woodflow: error: --out is empty: give a path, e.g. --out runs/new (an "
                    + "empty path would mean the current folder)");
        }
        for (String s : new String[] {"", " "}) {
            fails(cli("export", "--checkpoint", ckpt.toString(), "--out", s), "--out is empty: give a path");
            fails(cli("sample", "--checkpoint", ckpt.toString(), "--out", s), "--out is empty: give a path");
            fails(cli("score", "--checkpoint", ckpt.toString(), "--images", root.toString(), "--out", s),
                    "--out is empty: give a path");
        }
        try (var s = Files.list(cwd)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("config.yaml", "summary.json");
        }
        assertThat(Files.readString(cwd.resolve("config.yaml"))).startsWith("# my comments\n");
    }
}
