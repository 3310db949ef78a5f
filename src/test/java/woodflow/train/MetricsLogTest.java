package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsLogTest {
    /**
     * A log interval whose every step was skipped has no training bpd: the line says null (strict JSON, which jq, a
     * browser's JSON.parse and pandas read), never NaN or Infinity (which they refuse), and the other figures stay.
     */
    @Test
    void aNonFiniteFigureIsWrittenAsNull(@TempDir Path dir) throws Exception {
        MetricsLog log = MetricsLog.create(dir.resolve("metrics.jsonl"));
        log.append(log.newRecord().put("iteration", 20).put("train_bpd", Double.NaN).put("lr", 1e-3)
                .put("images_per_s", Double.POSITIVE_INFINITY).put("skipped_steps", 20));
        String line = Files.readString(dir.resolve("metrics.jsonl")).strip();
        assertThat(line).doesNotContain("NaN").doesNotContain("Infinity");
        JsonNode strict = new ObjectMapper().readTree(line); // Jackson's default parser refuses NaN
        assertThat(strict.get("train_bpd").isNull()).isTrue();
        assertThat(strict.get("images_per_s").isNull()).isTrue();
        assertThat(strict.get("lr").asDouble()).isEqualTo(1e-3);
        List<JsonNode> read = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertThat(read).hasSize(1);
        assertThat(MetricsLog.last(dir.resolve("metrics.jsonl"), 20).imagesPerSecond()).isNaN();
    }
}
