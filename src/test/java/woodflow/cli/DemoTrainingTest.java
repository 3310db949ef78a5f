package woodflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo's own model and data, trained for 100 iterations through the command line, skips no step in either
 * precision on the machine the suite runs on. On AMD Zen 5 with the fast path unchecked, 5-11 of the first 25-60
 * steps were skipped (oneDNN's convolution backward returned NaN); this is the test that would have caught it.
 */
class DemoTrainingTest {
    @ParameterizedTest
    @ValueSource(strings = {"fp32", "bf16-mixed"})
    void theDemoModelTrainsWithoutSkippedSteps(String precision, @TempDir Path dir) throws Exception {
        Path run = dir.resolve("demo");
        CliTest.Outcome o = CliTest.cli("train", "--preset", "demo", "--iterations", "100", "--precision", precision,
                "--out", run.toString(), "--no-report", "--quiet");
        assertThat(o.code()).as(o.err()).isZero();
        JsonNode summary = new ObjectMapper().readTree(run.resolve("summary.json").toFile());
        assertThat(summary.get("iterations").asLong()).isEqualTo(100);
        assertThat(summary.get("skipped_steps").asLong()).as(o.out()).isZero();
        assertThat(summary.get("test_bpd").asDouble()).isFinite().isLessThan(5.0);
        assertThat(o.out() + o.err()).doesNotContain("warning");
    }

    @org.junit.jupiter.api.Test
    void moreThanOnePercentSkippedEndsWithAWarningThatNamesTheCauses() {
        assertThat(woodflow.run.TrainingRun.skippedWarning(0, 1500, Path.of("c.yaml"))).isNull();
        assertThat(woodflow.run.TrainingRun.skippedWarning(15, 1500, Path.of("c.yaml"))).as("1% exactly").isNull();
        assertThat(woodflow.run.TrainingRun.skippedWarning(84, 1500, Path.of("runs/x/config.yaml")))
                .startsWith("warning: 84 of 1500 steps (5.6%) were skipped as non-finite")
                .contains("learning rate").contains("woodflow doctor --config runs/x/config.yaml");
    }
}
