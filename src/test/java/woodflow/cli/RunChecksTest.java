package woodflow.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.BadInputTest.fails;
import static woodflow.cli.CliTest.cli;

/**
 * Values that make no run are refused before the run folder is touched, and a figure that was not measured is said so
 * rather than printed or stored as NaN (issue 31).
 */
class RunChecksTest {
    @Test
    void zeroIterationsAndABatchLargerThanTheDataAreRefusedBeforeAnythingIsWritten(@TempDir Path dir)
            throws Exception {
        Path zero = Files.writeString(dir.resolve("zero.yaml"), CliTest.TINY.replace("iterations: 40", "iterations: 0"));
        fails(cli("train", "--config", zero.toString(), "--out", dir.resolve("zero").toString()),
                "iterations must be at least 1 (a run of 0 iterations trains nothing), got 0");
        Path big = Files.writeString(dir.resolve("big.yaml"), CliTest.TINY.replace("batch: 8", "batch: 5000"));
        fails(cli("train", "--config", big.toString(), "--out", dir.resolve("big").toString()),
                "train.batch 5000 is larger than the training set, which holds 256 images: every step would repeat "
                        + "images within its batch; lower train.batch to at most 256");
        fails(cli("train", "--config", zero.toString().replace("zero", "big"), "--batch", "300", "--out",
                dir.resolve("big").toString()), "train.batch 300 is larger than the training set");
        assertThat(Files.exists(dir.resolve("zero"))).isFalse();
        assertThat(Files.exists(dir.resolve("big"))).isFalse();
    }

    @Test
    void aRunResumedAtItsEndReportsItsLastFiguresNeverNaN(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("tiny.yaml"), CliTest.TINY);
        Path run = dir.resolve("run");
        CliTest.Outcome first = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--iterations", "4",
                "--eval-every", "4", "--no-report", "--quiet");
        assertThat(first.code()).as(first.err()).isZero();
        String summary = Files.readString(run.resolve("summary.json"));
        CliTest.Outcome again = cli("train", "--out", run.toString(), "--resume", "--iterations", "4", "--no-report");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out() + again.err()).doesNotContain("NaN").contains("nothing to train")
                .containsPattern("done: 4 iterations, test bpd \\d\\.\\d{4}, best \\d\\.\\d{4}, \\d+\\.\\d images/s");
        String after = Files.readString(run.resolve("summary.json"));
        assertThat(after).doesNotContain("NaN");
        assertThat(woodflow.io.Json.MAPPER.readTree(after).get("test_bpd"))
                .isEqualTo(woodflow.io.Json.MAPPER.readTree(summary).get("test_bpd"));

        // an imported run has no test bpd yet: said so, not NaN
        Path pt = dir.resolve("model.pt");
        assertThat(cli("export", "--checkpoint", run.toString(), "--out", pt.toString()).code()).isZero();
        Path imported = dir.resolve("imported");
        CliTest.Outcome imp = cli("import", "--checkpoint", pt.toString(), "--config", cfg.toString(), "--out",
                imported.toString());
        assertThat(imp.code()).as(imp.err()).isZero();
        CliTest.Outcome resumed = cli("train", "--out", imported.toString(), "--resume", "--iterations", "2",
                "--eval-every", "2", "--no-report");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("at iteration 0 (best test bpd not measured)").doesNotContain("NaN");
    }
}
