package woodflow.distributed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --nproc}: the ranks' environment and threads, their logs, and a failed rank stopping the others. */
class LocalLauncherTest {
    /** A stand-in rank: prints its environment and arguments; rank 1 fails when asked to, the others then wait. */
    public static final class FakeRank {
        public static void main(String[] args) throws Exception {
            System.out.println("RANK=" + System.getenv("RANK") + " LOCAL_RANK=" + System.getenv("LOCAL_RANK")
                    + " WORLD_SIZE=" + System.getenv("WORLD_SIZE") + " MASTER_ADDR=" + System.getenv("MASTER_ADDR")
                    + " MASTER_PORT=" + System.getenv("MASTER_PORT") + " args=" + String.join(" ", args));
            if (args[0].equals("fail")) {
                if (System.getenv("RANK").equals("1")) System.exit(3);
                Thread.sleep(120_000); // stopped by the launcher long before
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyRankGetsItsEnvironmentAndShareOfThreads(@TempDir Path run) throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new LocalLauncher(3, 6, run, new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(FakeRank.class.getName(), List.of("ok"));
        assertThat(code).isZero();
        for (int r = 1; r < 3; r++) {
            String log = Files.readString(run.resolve("logs").resolve("rank-" + r + ".log"));
            assertThat(log).contains("RANK=" + r + " LOCAL_RANK=" + r + " WORLD_SIZE=3 MASTER_ADDR=127.0.0.1")
                    .contains("args=ok --threads 2");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFailedRankStopsTheOthersAndIsNamed(@TempDir Path run) throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code = new LocalLauncher(3, 3, run, new PrintStream(err, true, StandardCharsets.UTF_8))
                .run(FakeRank.class.getName(), List.of("fail"));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8).strip())
                .startsWith("woodflow: error: rank 1 of 3 exited with code 3").contains("rank-1.log")
                .endsWith("stopped the other ranks");
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds").isLessThan(40);
    }
}
