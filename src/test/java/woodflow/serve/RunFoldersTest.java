package woodflow.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.train.RunLock;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The dashboard's view of run folders, without a browser: statuses from the lock and summary, and path refusals. */
class RunFoldersTest {
    @Test
    void statusFollowsTheLockWithoutTakingIt(@TempDir Path root) throws Exception {
        Path run = root.resolve("r");
        Files.createDirectories(run);
        Files.writeString(run.resolve("metrics.jsonl"), "{\"iteration\":0,\"test_bpd\":5.0}\n");
        RunFolders folders = new RunFolders(root);
        assertThat(folders.info(run).get("status").asText()).isEqualTo("unknown");
        try (RunLock lock = RunLock.acquire(run)) {
            assertThat(folders.info(run).get("status").asText()).isEqualTo("running");
        }
        // the probe never held the lock: a trainer takes it again at once
        try (RunLock again = RunLock.acquire(run)) {
            assertThat(LockProbe.probe(run)).isEqualTo(LockProbe.State.HELD);
        }
        assertThat(folders.info(run).get("status").asText()).isEqualTo("stale lock");
        Files.writeString(run.resolve("summary.json"), "{\"status\": \"failed\", \"error\": \"out of memory\"}");
        assertThat(folders.info(run).get("status").asText()).isEqualTo("failed");
        assertThat(folders.info(run).get("error").asText()).isEqualTo("out of memory");
        Files.writeString(run.resolve("summary.json"), "{\"status\": \"finished\"}");
        assertThat(folders.info(run).get("status").asText()).isEqualTo("finished");
        assertThat(folders.info(run).get("test_bpd").asDouble()).isEqualTo(5.0);
    }

    @Test
    void aMissingParameterIsABadRequestThatNamesIt(@TempDir Path root) throws Exception {
        Path run = Files.createDirectories(root.resolve("r"));
        Files.writeString(run.resolve("config.yaml"), "model: {}\n");
        RunFolders folders = new RunFolders(root);
        assertThatThrownBy(() -> folders.checkpoint(run, null)).isInstanceOfSatisfying(RunFolders.Refused.class,
                e -> {
                    assertThat(e.status).isEqualTo(400);
                    assertThat(e.getMessage()).startsWith("the checkpoint parameter is missing").doesNotContain("null");
                });
        assertThatThrownBy(() -> folders.run(null)).isInstanceOfSatisfying(RunFolders.Refused.class,
                e -> assertThat(e.status).isEqualTo(400));
        // the API's class parameter is named as the API names it, not as the command line's option
        assertThatThrownBy(() -> woodflow.sample.ClassChoice.resolve(java.util.List.of(), "ring", "best.safetensors",
                "class")).hasMessageStartingWith("class ring: ").hasMessageContaining("leave out class,")
                .hasMessageNotContaining("--class");
    }

    @Test
    void refusesPathsOutsideRoot(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("runs");
        Path run = root.resolve("r");
        Files.createDirectories(run.resolve("samples"));
        Files.writeString(run.resolve("config.yaml"), "x: 1\n");
        Files.writeString(run.resolve("samples/a.png"), "png");
        Files.writeString(dir.resolve("secret.txt"), "secret");
        Files.createSymbolicLink(run.resolve("escape"), dir);
        RunFolders folders = new RunFolders(root);
        assertThat(folders.file("r/samples/a.png")).isEqualTo(run.resolve("samples/a.png").toAbsolutePath());
        for (String bad : new String[] {"../secret.txt", "r/../../secret.txt", "/etc/passwd", "../../etc/passwd",
                "r/escape/secret.txt", "r/samples/../../../secret.txt"}) {
            assertThatThrownBy(() -> folders.file(bad)).as(bad).isInstanceOf(RunFolders.Refused.class)
                    .hasMessageContaining("refused").satisfies(e -> assertThat(((RunFolders.Refused) e).status)
                            .isEqualTo(403));
        }
        assertThatThrownBy(() -> folders.run("..")).isInstanceOf(RunFolders.Refused.class);
        assertThatThrownBy(() -> folders.checkpoint(run, "../../secret.txt")).isInstanceOf(RunFolders.Refused.class)
                .hasMessageContaining("not a checkpoint name");
        assertThatThrownBy(() -> folders.file("r/missing.png")).isInstanceOf(RunFolders.Refused.class)
                .satisfies(e -> assertThat(((RunFolders.Refused) e).status).isEqualTo(404));
        assertThat(folders.list()).containsExactly(run.toAbsolutePath());
    }
}
