package woodflow.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.io.OutputGuard.FileKind;
import woodflow.io.OutputGuard.FolderKind;
import woodflow.io.OutputGuard.Input;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one rule for outputs: never on or inside an input (however the path is spelled: symbolic links, {@code ./x},
 * {@code a/../x}, hard links), never an empty path, an existing file replaced only when it is of the kind written (or
 * with --force), a folder new, empty or recognised.
 */
class OutputGuardTest {
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};

    @Test
    void anEmptyOrBlankOutIsRefused() {
        for (String s : new String[] {"", " ", "\t"}) {
            assertThatThrownBy(() -> OutputGuard.file("--out", Path.of(s), FileKind.PNG, false))
                    .hasMessageStartingWith("--out is empty: give a path, e.g. --out out.png");
            assertThatThrownBy(() -> OutputGuard.folder("--out", Path.of(s), FolderKind.RUN))
                    .hasMessageStartingWith("--out is empty: give a path, e.g. --out runs/new");
        }
    }

    @Test
    void anOutputThatIsAnInputHoweverSpelledIsRefused(@TempDir Path dir) throws Exception {
        Path ckpt = Files.write(dir.resolve("c.pt"), new byte[] {'P', 'K', 3, 4});
        Path sub = Files.createDirectories(dir.resolve("a"));
        Input in = Input.of("--checkpoint", ckpt);
        String refused = "that this command reads: writing there would destroy it";
        assertThatThrownBy(() -> OutputGuard.file("--out", ckpt, FileKind.TORCH_SAVE, false, in))
                .hasMessageContaining("--out " + ckpt + " is the file " + ckpt + " (--checkpoint) " + refused);
        // relative spellings, from the current folder
        Path cwd = Path.of("").toAbsolutePath();
        Path rel = cwd.relativize(ckpt);
        for (Path p : new Path[] {Path.of(".").resolve(rel), sub.resolve("..").resolve("c.pt"),
                cwd.relativize(sub).resolve("../c.pt")}) {
            assertThatThrownBy(() -> OutputGuard.file("--out", p, FileKind.TORCH_SAVE, true, in)).as(p.toString())
                    .hasMessageContaining(refused);
        }
        // a symbolic link to the input, and a link to its folder
        Path link = Files.createSymbolicLink(dir.resolve("link.pt"), ckpt);
        assertThatThrownBy(() -> OutputGuard.file("--out", link, FileKind.TORCH_SAVE, true, in))
                .hasMessageContaining(refused);
        Path folderLink = Files.createSymbolicLink(dir.resolve("b"), dir);
        assertThatThrownBy(() -> OutputGuard.file("--out", folderLink.resolve("c.pt"), FileKind.TORCH_SAVE, true,
                in)).hasMessageContaining(refused);
        // ".." after a symbolic link goes up from the link's target, as the kernel does
        Path deep = Files.createDirectories(dir.resolve("x/y"));
        Path up = Files.createSymbolicLink(sub.resolve("toY"), deep);
        Path other = Files.write(dir.resolve("x/c.pt"), new byte[] {'P', 'K', 3, 4});
        assertThatThrownBy(() -> OutputGuard.file("--out", up.resolve("../c.pt"), FileKind.TORCH_SAVE, true,
                Input.of("--checkpoint", other))).hasMessageContaining(refused);
        // a hard link is the same file
        Path hard = Files.createLink(dir.resolve("hard.pt"), ckpt);
        assertThatThrownBy(() -> OutputGuard.file("--out", hard, FileKind.TORCH_SAVE, true, in))
                .hasMessageContaining(refused);
        // another name is fine
        assertThat(OutputGuard.file("--out", dir.resolve("model.pt"), FileKind.TORCH_SAVE, false, in))
                .isEqualTo(dir.resolve("model.pt"));
    }

    @Test
    void anOutputInsideAnInputFolderIsRefused(@TempDir Path dir) throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        assertThatThrownBy(() -> OutputGuard.file("--out", images.resolve("deeper/scores.csv"),
                FileKind.csv("file,bpd"), false, Input.of("--images", images)))
                .hasMessageContaining("--out " + images.resolve("deeper/scores.csv") + " is inside the folder "
                        + images + " (--images) that this command reads");
        assertThatThrownBy(() -> OutputGuard.folder("--out", images.resolve("run"), FolderKind.RUN,
                Input.of("data.path", images.toString()))).hasMessageContaining("is inside the folder " + images
                + " (data.path)");
        assertThatThrownBy(() -> OutputGuard.folder("--out", images, FolderKind.RUN,
                Input.of("data.path", images.toString()))).hasMessageContaining("is the folder " + images);
    }

    @Test
    void anExistingFileIsReplacedOnlyWhenOfTheKindWrittenOrForced(@TempDir Path dir) throws Exception {
        Path mine = Files.writeString(dir.resolve("notes.png"), "my notes");
        assertThatThrownBy(() -> OutputGuard.file("--out", mine, FileKind.PNG, false))
                .hasMessage("--out " + mine + " exists and is not a PNG image (what this command writes), so it is not "
                        + "replaced: choose another --out, or pass --force to replace it");
        assertThat(OutputGuard.file("--out", mine, FileKind.PNG, true)).isEqualTo(mine);
        Path png = Files.write(dir.resolve("grid.png"), PNG);
        assertThat(OutputGuard.file("--out", png, FileKind.PNG, false)).isEqualTo(png);
        Path empty = Files.write(dir.resolve("empty.png"), new byte[0]);
        assertThat(OutputGuard.file("--out", empty, FileKind.PNG, false)).isEqualTo(empty);
        FileKind scores = FileKind.csv("file,bpd");
        Path csv = Files.writeString(dir.resolve("scores.csv"), "file,bpd\na.png,3.1\n");
        assertThat(OutputGuard.file("--out", csv, scores, false)).isEqualTo(csv);
        Path theirs = Files.writeString(dir.resolve("theirs.csv"), "file,bpd2\n");
        assertThatThrownBy(() -> OutputGuard.file("--out", theirs, scores, false))
                .hasMessageContaining("is not a CSV file that begins with the line file,bpd");
        assertThatThrownBy(() -> OutputGuard.file("--out", dir.resolve("grid.jpg"), FileKind.PNG, false))
                .hasMessage("--out " + dir.resolve("grid.jpg") + ": this command writes a PNG image; give a file name "
                        + "ending in .png, e.g. --out grid-new.png");
        assertThatThrownBy(() -> OutputGuard.file("--out", dir, FileKind.PNG, false))
                .hasMessageStartingWith("--out " + dir + " is a folder: give the file to write");
        // a node that is not a regular file (here a socket; /dev/null is one too) is never replaced, even forced
        Path socket = dir.resolve("node.png");
        try (var ch = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(java.net.UnixDomainSocketAddress.of(socket));
            assertThatThrownBy(() -> OutputGuard.file("--out", socket, FileKind.PNG, true))
                    .hasMessageStartingWith("--out " + socket + " is not a regular file (a device, a pipe or a socket)");
        }
    }

    @Test
    void aFolderIsNewEmptyOrRecognised(@TempDir Path dir) throws Exception {
        assertThat(OutputGuard.folder("--out", dir.resolve("new"), FolderKind.RUN)).isEqualTo(dir.resolve("new"));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThat(OutputGuard.folder("--out", empty, FolderKind.RUN)).isEqualTo(empty);
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve(OutputGuard.RUN_MARKER), "");
        Files.writeString(run.resolve("config.yaml"), "model: {}\n");
        assertThat(OutputGuard.folder("--out", run, FolderKind.RUN)).isEqualTo(run);
        // the run's own config.yaml may be read on --resume; another input inside the run folder may not
        assertThat(OutputGuard.folder("--out", run, FolderKind.RUN, Input.of("--config", run.resolve("config.yaml"))))
                .isEqualTo(run);
        Path other = Files.writeString(run.resolve("mine.yaml"), "x: 1\n");
        assertThatThrownBy(() -> OutputGuard.folder("--out", run, FolderKind.RUN, Input.of("--config", other)))
                .hasMessageContaining("holds the file " + other + " (--config) that this command reads");
        Path users = Files.createDirectories(dir.resolve("users"));
        Files.writeString(users.resolve("summary.json"), "{}");
        assertThatThrownBy(() -> OutputGuard.folder("--out", users, FolderKind.RUN))
                .hasMessage("--out " + users + " holds other files and is not a woodflow run folder (no run.lock, "
                        + "the marker file of a run); nothing was written: choose a new or empty "
                        + "folder for --out");
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertThatThrownBy(() -> OutputGuard.folder("--out", file, FolderKind.RUN))
                .hasMessageStartingWith("--out " + file + " is a file, not a folder");
        // a run's files are its trainer's: no other output lands in a run folder, even one the command does not read
        Path curve = Files.write(run.resolve("curve.png"), PNG);
        assertThatThrownBy(() -> OutputGuard.file("--out", curve, FileKind.PNG, true))
                .hasMessage("--out " + curve + " is inside the woodflow run folder " + run + ", whose files are its "
                        + "trainer's; choose an --out outside it");
        Path metrics = Files.writeString(run.resolve("metrics.jsonl"), "{}\n");
        assertThatThrownBy(() -> OutputGuard.file("--json", metrics, FileKind.JSON_LINES, false))
                .hasMessageContaining("is inside the woodflow run folder " + run);
        assertThatThrownBy(() -> OutputGuard.folder("--out", run.resolve("samples/inner"), FolderKind.RUN))
                .hasMessageContaining("is inside the woodflow run folder " + run);
    }
}
