package woodflow.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import woodflow.cli.CliTest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bench train --nproc 2} starts two ranks that time the group's step and report, from rank 0 alone, the
 * group's images per second and the all-reduce wait apart (no timing is asserted).
 */
class DataParallelBenchTest {
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twoRanksReportTheGroupsStepAndTheAllreduceWait(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny.yaml");
        Files.writeString(config, """
                model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                        d_c: [2, 2], d_s: [4, 4]}
                data: {kind: embedded, count: 256, holdout: 32, n_bits: 8}
                train: {batch: 8, iterations: 40, seed: 1}
                """);
        Path json = dir.resolve("bench.jsonl");
        for (String overlap : new String[] {"", "--no-overlap"}) {
            List<String> args = new java.util.ArrayList<>(List.of("bench", "train", "--config", config.toString(),
                    "--nproc", "2", "--threads", "2", "--warmup", "1", "--iterations", "2", "--json", json.toString()));
            if (!overlap.isEmpty()) args.add(overlap);
            CliTest.Outcome o = CliTest.cli(args.toArray(String[]::new));
            assertThat(o.code()).as("bench train --nproc 2 %s: %s", overlap, o.err()).isZero();
        }
        List<String> lines = Files.readAllLines(json);
        assertThat(lines).as("one line per group, from rank 0").hasSize(2);
        for (int i = 0; i < 2; i++) {
            JsonNode r = new ObjectMapper().readTree(lines.get(i));
            assertThat(r.get("world_size").asInt()).isEqualTo(2);
            assertThat(r.get("rank_batch").asInt()).isEqualTo(4);
            assertThat(r.get("threads").asInt()).as("each rank's share of --threads 2").isEqualTo(1);
            assertThat(r.get("valid").asBoolean()).isTrue();
            assertThat(r.get("allreduce_wait_s_median").asDouble()).isPositive();
            // the tiny model's gradient fits the first bucket: nothing to overlap (DataParallelTest overlaps small
            // buckets)
            assertThat(r.get("allreduce").asText()).isEqualTo(i == 0 ? "after the backward (one bucket: nothing to "
                    + "overlap)" : "after the backward (--no-overlap)");
        }
    }

    /** A group that cannot share the batch is refused before any rank starts, by train and bench train alike. */
    @Test
    void aBatchTheRanksCannotShareIsOneLineError() {
        for (String[] cmd : new String[][] {{"train", "--preset", "demo", "--out", "unused"}, {"bench", "train",
                "--preset", "demo"}}) {
            CliTest.Outcome three = CliTest.cli(concat(cmd, "--nproc", "3"));
            assertThat(three.code()).isNotZero();
            assertThat(three.err()).contains("the global batch 32 is not divisible by --nproc 3: choose a batch that "
                    + "is a multiple of 3 (--batch)");
            CliTest.Outcome none = CliTest.cli(concat(cmd, "--nproc", "0"));
            assertThat(none.code()).isNotZero();
            assertThat(none.err()).contains("--nproc must be at least 1, got 0");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
