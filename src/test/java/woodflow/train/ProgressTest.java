package woodflow.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The plain progress lines (no terminal): an iteration budget shows an ETA, a time budget the training time left. */
class ProgressTest {
    private static String run(long total, double timeLimit, double trainSeconds) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                Progress p = Progress.create(0, total, timeLimit, out, false)) {
            p.update(20, 5.25, 100.0, Double.NaN, trainSeconds);
            p.update(40, 5.0, 110.0, 4.9, trainSeconds * 2);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void iterationBudgetShowsTheCountAndAnEta() {
        String s = run(600, Double.POSITIVE_INFINITY, 1);
        assertThat(s).contains("iter 20/600  bpd 5.2500  100.0 img/s  ETA ?")
                .contains("iter 40/600  bpd 5.0000  test 4.9000  110.0 img/s  ETA ");
    }

    @Test
    void timeBudgetShowsTheTrainingTimeLeftNotAnEndlessCount() {
        String s = run(Integer.MAX_VALUE, 180, 30);
        assertThat(s).contains("iter 20  bpd 5.2500  100.0 img/s  2m30s of training left")
                .contains("iter 40  bpd 5.0000  test 4.9000  110.0 img/s  2m00s of training left")
                .doesNotContain("2147483647").doesNotContain("ETA");
    }
}
