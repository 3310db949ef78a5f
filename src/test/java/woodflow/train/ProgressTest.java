package woodflow.train;

import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plain progress lines (no terminal): an iteration budget shows an ETA, a time budget the training time left, a
 * test bpd the iteration it was measured at. The terminal bar: moves every step, and prints lines (evaluations,
 * log lines) on a cleared line, never over the bar.
 */
class ProgressTest {
    private static String run(long total, double timeLimit, double trainSeconds) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                Progress p = Progress.create(0, total, timeLimit, out, false)) {
            p.update(20, 5.25, 100.0, Double.NaN, 0, trainSeconds, 0, 1e-3);
            p.update(40, 5.0, 110.0, 4.9, 0, trainSeconds * 2, 0, 2.5e-4);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void iterationBudgetShowsTheCountAndAnEta() {
        String s = run(600, Double.POSITIVE_INFINITY, 1);
        assertThat(s).contains("iter 20/600  bpd 5.2500  lr 1.00e-03  100.0 img/s  ETA 0s")
                .contains("iter 40/600  bpd 5.0000  test 4.9000 (iter 0)  lr 2.50e-04  110.0 img/s  ETA ");
    }

    @Test
    void anIntervalWhoseStepsWereAllSkippedSaysSoRatherThanNaN() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                Progress p = Progress.create(0, 600, Double.POSITIVE_INFINITY, out, false)) {
            p.update(20, Double.NaN, 100.0, Double.NaN, 0, 1, 20, Double.NaN);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("iter 20/600  bpd none (every step skipped)  "
                + "skipped 20  100.0 img/s").doesNotContain("NaN");
    }

    @Test
    void timeBudgetShowsTheTrainingTimeLeftNotAnEndlessCount() {
        String s = run(Integer.MAX_VALUE, 180, 30);
        assertThat(s).contains("iter 20  bpd 5.2500  lr 1.00e-03  100.0 img/s  2m30s of training left")
                .contains("iter 40  bpd 5.0000  test 4.9000 (iter 0)  lr 2.50e-04  110.0 img/s  2m00s of training left")
                .doesNotContain("2147483647").doesNotContain("ETA");
    }

    @Test
    void theBarMovesEveryStepAndLinesAreNeverDrawnOverIt() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                Progress p = new Progress.Bar(0, 40, Double.POSITIVE_INFINITY, err)) {
            for (int i = 1; i <= 3; i++) p.tick(i);
            // the bar redraws on its own thread every 200 ms: wait for the frame (bounded), not a fixed sleep
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!bytes.toString(StandardCharsets.UTF_8).contains(" 3/40") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(bytes.toString(StandardCharsets.UTF_8)).as("the bar moved before any log line")
                    .contains(" 3/40");
            p.update(4, 5.0, 110.0, 4.9, 0, 1, 3, Double.NaN);
            p.message("iteration 4: test bpd 4.8000 (best 4.8000)");
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertThat(s).contains(Progress.Bar.CLEAR_LINE + "iter 4/40  bpd 5.0000  test 4.9000 (iter 0)  skipped 3  ")
                .contains(Progress.Bar.CLEAR_LINE + "iteration 4: test bpd 4.8000 (best 4.8000)");
    }

    /** {@code eval --samples K} on a terminal: a bar over the K draws (count, rate, ETA) and the last draw's bpd. */
    @Test
    void theDrawsOfAnImportanceWeightedBoundMoveABar() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                DrawProgress p = new DrawProgress(4, err)) {
            p.drawDone(0, 3.25);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!bytes.toString(StandardCharsets.UTF_8).contains(" 1/4") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("eval").contains(" 1/4").contains("draw")
                .contains("bpd 3.2500");
    }

    @Test
    void nnpackIsOffSoLibtorchNeverComplainsAboutIt() {
        Tensors.load();
        assertThat(org.bytedeco.pytorch.global.torch.globalContext().userEnabledNNPACK()).isFalse();
    }
}
