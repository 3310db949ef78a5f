package woodflow.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.io.DiskFull;
import woodflow.train.Checkpoint;
import woodflow.train.MetricsLog;
import woodflow.soak.RunComparison;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.CliTest.cli;

/**
 * Crash safety end to end: trainers in child JVMs killed with SIGKILL while training, while writing a checkpoint,
 * during an evaluation's writes and during start-up, then resumed in this process (the short form of
 * {@code woodflow soak}); and a full disk during checkpointing (simulated, and a real 1 MB tmpfs when this runs as
 * root), after which the run exits non-zero with one line, keeps every file it wrote, and resumes to the same result
 * as an uninterrupted run.
 */
class CrashSafetyTest {
    static final String RUN = """
            model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4]}
            data: {kind: embedded, count: 256, holdout: 32, n_bits: 8}
            train: {batch: 8, iterations: 20, eval_every: 10, checkpoint_every: 5, log_every: 5, keep_checkpoints: 2,
                    seed: 5}
            """;

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * The demo's own model (3x16x16, 2 levels x 6 steps, 128 channels) resumes bit for bit too, not only the tiny soak
     * model: its long intervals (300) are shortened so that a short soak writes checkpoints to resume from.
     */
    @Test
    void theDemoModelResumesBitForBitToo(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("soak");
        CliTest.Outcome o = cli("soak", "--preset", "demo", "--cycles", "2", "--iterations", "12", "--out",
                out.toString(), "--threads", "1", "--seed", "5");
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("(checkpoint every 3)").contains("identical: ").contains("soak passed:");
    }

    @Test
    void killedAtEveryKindOfMomentThenResumedInProcessMatchesAnUninterruptedRunBitForBit(@TempDir Path dir)
            throws Exception {
        Path out = dir.resolve("soak");
        CliTest.Outcome o = cli("soak", "--cycles", "5", "--iterations", "40", "--out", out.toString(), "--threads",
                "1", "--seed", "3");
        assertThat(o.code()).as(o.out() + o.err()).isZero();
        assertThat(o.out()).contains("cycle 1: killed during training", "cycle 2: killed while writing a checkpoint",
                "cycle 3: killed during an evaluation's writes", "cycle 4: killed during start-up",
                "cycle 5: killed during training");
        assertThat(o.out()).containsPattern("final: resumed in this process from iteration [1-9]\\d*, finished at 40")
                .contains("identical: ").contains("soak passed: 5 kills");
        Path run = out.resolve("interrupted");
        assertThat(names(run.resolve("checkpoints")))
                .containsExactly("best.safetensors", "ckpt-00000035.safetensors", "ckpt-00000040.safetensors");
        assertThat(names(run)).noneMatch(n -> n.contains(".tmp-"));
        assertThat(Files.readString(run.resolve("summary.json"))).contains("\"status\" : \"finished\"")
                .contains("\"iterations\" : 40");
        assertThat(Files.readString(run.resolve("metrics.jsonl"))).endsWith("\n");
    }

    @Test
    void aFullDiskWhileCheckpointingStopsTheRunWithOneLineAndLosesNothing(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("run.yaml");
        Files.writeString(cfg, RUN);
        Path run = dir.resolve("run");
        assertThat(cli("train", "--config", cfg.toString(), "--out", run.toString(), "--iterations", "10",
                "--no-report", "--quiet").code()).isZero();
        Path ckpt10 = run.resolve("checkpoints/ckpt-00000010.safetensors");
        byte[] before = Files.readAllBytes(ckpt10);
        CliTest.Outcome o;
        DiskFull.forWritesOf("ckpt-00000015");
        try {
            o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--resume", "--no-report",
                    "--quiet");
        } finally {
            DiskFull.clear();
        }
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err().strip()).isEqualTo("woodflow: error: cannot write "
                + run.resolve("checkpoints/ckpt-00000015.safetensors") + ": No space left on device (simulated); "
                + "the run is kept up to checkpoints/ckpt-00000010.safetensors (iteration 10): fix the problem (e.g. "
                + "free disk space) and continue with `woodflow train --out " + run + " --resume`");
        assertThat(Files.readAllBytes(ckpt10)).isEqualTo(before);
        assertThat(names(run.resolve("checkpoints")))
                .containsExactly("best.safetensors", "ckpt-00000005.safetensors", "ckpt-00000010.safetensors");
        resumeAndCompare(cfg, run, dir.resolve("reference"));
    }

    /**
     * The disk fills after best.safetensors was written but before any ckpt-*: the message names best.safetensors and
     * how to go on (it is not "no checkpoint was written"); a fresh train into the folder is refused rather than
     * overwrite it; --resume continues from it.
     */
    @Test
    void aFullDiskBeforeTheFirstCheckpointNamesTheBestOneAndAFreshTrainKeepsIt(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("run.yaml");
        Files.writeString(cfg, RUN.replace("eval_every: 10", "eval_every: 5"));
        Path run = dir.resolve("run");
        CliTest.Outcome o;
        DiskFull.forWritesOf("ckpt-");
        try {
            o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--no-report", "--quiet");
        } finally {
            DiskFull.clear();
        }
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err().strip()).isEqualTo("woodflow: error: cannot write "
                + run.resolve("checkpoints/ckpt-00000005.safetensors") + ": No space left on device (simulated); "
                + "the run is kept in checkpoints/best.safetensors (iteration 5): fix the problem (e.g. free disk "
                + "space) and continue with `woodflow train --out " + run + " --resume`, or evaluate it with "
                + "`woodflow eval --checkpoint " + run + "`");
        Path best = run.resolve("checkpoints/best.safetensors");
        byte[] before = Files.readAllBytes(best);
        CliTest.Outcome again = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--no-report",
                "--quiet");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err().strip()).isEqualTo("woodflow: error: run folder " + run + " already holds checkpoints: "
                + "pass --resume to continue it, or choose another --out");
        assertThat(Files.readAllBytes(best)).isEqualTo(before);
        CliTest.Outcome resumed = cli("train", "--out", run.toString(), "--resume", "--iterations", "10",
                "--no-report");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resumed from checkpoints/best.safetensors at iteration 5");
    }

    @Test
    void aRealFullDiskStopsTheRunWithOneLineAndLosesNothing(@TempDir Path dir) throws Exception {
        Path disk = Files.createDirectories(dir.resolve("disk"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.toString()),
                "mounting a tmpfs needs root");
        try {
            Path cfg = dir.resolve("run.yaml");
            Files.writeString(cfg, RUN.replace("iterations: 20", "iterations: 40"));
            FileStore store = Files.getFileStore(disk);
            long leave = 110 * 1024; // room for about three checkpoints of this model
            Path filler = disk.resolve("filler");
            Files.write(filler, new byte[(int) (store.getUsableSpace() - leave)]);
            Path run = disk.resolve("run");
            CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--no-report",
                    "--quiet");
            assertThat(o.code()).as(o.out()).isEqualTo(1);
            assertThat(o.err()).startsWith("woodflow: error: ").contains("No space left on device")
                    .containsPattern("the run is kept up to checkpoints/ckpt-\\d+\\.safetensors")
                    .doesNotContain("\tat ").doesNotContain("Exception raised from");
            assertThat(o.err().strip().lines().count()).isEqualTo(1);
            for (String n : names(run.resolve("checkpoints"))) {
                if (n.endsWith(".safetensors")) Checkpoint.read(run.resolve("checkpoints").resolve(n));
            }
            MetricsLog.read(run.resolve("metrics.jsonl"));
            Files.delete(filler);
            resumeAndCompare(cfg, run, dir.resolve("reference"));
        } finally {
            run("umount", "-l", disk.toString());
        }
    }

    /** Resumes {@code run} to the end and checks it against an uninterrupted run of the same config. */
    private static void resumeAndCompare(Path cfg, Path run, Path reference) throws Exception {
        CliTest.Outcome resumed = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--resume",
                "--no-report", "--quiet");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        CliTest.Outcome ref = cli("train", "--config", cfg.toString(), "--out", reference.toString(), "--no-report",
                "--quiet");
        assertThat(ref.code()).as(ref.err()).isZero();
        long iterations = Long.parseLong(ref.out().replaceAll("(?s).*done: (\\d+) iterations.*", "$1"));
        RunComparison.Report r = RunComparison.compare(reference, run, iterations);
        assertThat(r.differences()).isEmpty();
        assertThat(r.tensors()).isGreaterThan(50);
        assertThat(r.metricsRecords()).isGreaterThan(4);
    }

    private static boolean run(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
