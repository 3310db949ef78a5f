package woodflow.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The memory benchmark's choice of measurements (the measurements themselves run in child JVMs, not here). */
class MemoryBenchmarkTest {
    @Test
    void presetsTakeTheGivenOverridesAndUnknownNamesAreRefused() {
        List<MemoryBenchmark.Config> c = MemoryBenchmark.configs(List.of("k4", " celeba128"), 2, null, null, 1e-3);
        assertThat(c).extracting(MemoryBenchmark.Config::name).containsExactly("k4", "celeba128");
        assertThat(c.get(0).iterations()).isEqualTo(2);
        assertThat(c.get(0).batch()).isEqualTo(MemoryBenchmark.PRESETS.get("k4").batch());
        assertThat(c.get(1).driftTolerance()).isEqualTo(1e-3);
        assertThatThrownBy(() -> MemoryBenchmark.configs(List.of("k5"), null, null, null, null))
                .hasMessageContaining("unknown config 'k5'").hasMessageContaining("celeba256");
    }
}
