package woodflow.distributed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Jvm;
import woodflow.core.Tensors;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Faults of a data-parallel group end in one line naming the problem, within the group's timeout, never a hang. */
class DistFaultTest {
    private static DistConfig config(int port, int rank, int worldSize, long timeoutMillis) {
        return new DistConfig("127.0.0.1", port, rank, worldSize, rank, timeoutMillis, "127.0.0.1");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPortInUseIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThatThrownBy(() -> DistContext.join(config(taken.getLocalPort(), 0, 2, 3000)))
                    .isInstanceOf(DistException.class)
                    .hasMessageContaining("port is already in use").hasMessageContaining("MASTER_PORT");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anUnreachableMasterIsNamedWithinTheTimeout() throws Exception {
        int port = LocalLauncher.freePort();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> DistContext.join(config(port, 1, 2, 3000)))
                .isInstanceOf(DistException.class)
                .hasMessageContaining("rank 1: rank 0 (the master) did not appear at 127.0.0.1:" + port);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void ranksWithDifferentConfigsRefuseToStart() throws Exception {
        Tensors.load();
        int port = LocalLauncher.freePort();
        CompletableFuture<Throwable> rank1 = CompletableFuture.supplyAsync(() -> {
            try (DistContext c = DistContext.join(config(port, 1, 2, 20_000))) {
                c.agree("config", "bbbb", "run config (hash)");
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        try (DistContext c = DistContext.join(config(port, 0, 2, 20_000))) {
            assertThatThrownBy(() -> c.agree("config", "aaaa", "run config (hash)"))
                    .isInstanceOf(DistException.class)
                    .hasMessageContaining("rank 0: the ranks disagree on the run config (hash)")
                    .hasMessageContaining("rank 1 has bbbb");
        }
        assertThat(rank1.get(30, TimeUnit.SECONDS)).isInstanceOf(DistException.class)
                .hasMessageContaining("rank 0 has aaaa");
    }

    /** A rank (args: port, rank, world size) that joins, passes one barrier, then waits to be killed. */
    public static final class IdleRank {
        public static void main(String[] args) throws Exception {
            try (DistContext c = DistContext.join(config(Integer.parseInt(args[0]), Integer.parseInt(args[1]),
                    Integer.parseInt(args[2]), 20_000))) {
                c.barrier();
                System.out.println("joined");
                Thread.sleep(120_000);
            }
            System.exit(0);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aRankKilledWithSigkillStopsTheOthersWithOneLineNamingIt(@TempDir Path tmp) throws Exception {
        Tensors.load();
        int port = LocalLauncher.freePort();
        List<String> cmd = Jvm.javaCommand(IdleRank.class.getName());
        cmd.addAll(List.of(Integer.toString(port), "1", "2"));
        Path log = tmp.resolve("rank-1.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try (DistContext c = DistContext.join(config(port, 0, 2, 20_000))) {
            c.barrier();
            for (int i = 0; i < 600 && !Files.readString(log, StandardCharsets.UTF_8).contains("joined"); i++) {
                Thread.sleep(100);
            }
            p.destroyForcibly().waitFor(); // SIGKILL
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) c.barrier(); // a collective after the loss
            }).isInstanceOf(DistException.class).hasMessageStartingWith("rank 0: lost rank 1")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat((System.nanoTime() - t0) / 1e9).as("seconds to notice").isLessThan(25);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void inAGroupOfThreeTheKilledRankIsNamedByItsStoppedHeartbeat(@TempDir Path tmp) throws Exception {
        Tensors.load();
        int port = LocalLauncher.freePort();
        List<String> cmd = Jvm.javaCommand(IdleRank.class.getName());
        cmd.addAll(List.of(Integer.toString(port), "2", "3"));
        Path log = tmp.resolve("rank-2.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        CompletableFuture<Throwable> rank1 = CompletableFuture.supplyAsync(() -> {
            try (DistContext c = DistContext.join(config(port, 1, 3, 20_000))) {
                for (int i = 0; i < 100_000; i++) c.barrier();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        try (DistContext c = DistContext.join(config(port, 0, 3, 20_000))) {
            c.barrier();
            for (int i = 0; i < 600 && !Files.readString(log, StandardCharsets.UTF_8).contains("joined"); i++) {
                Thread.sleep(100);
            }
            p.destroyForcibly().waitFor(); // SIGKILL
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100_000; i++) c.barrier();
            }).isInstanceOf(DistException.class).hasMessageStartingWith("rank 0: lost rank 2 ");
        } finally {
            p.destroyForcibly();
        }
        assertThat(rank1.get(60, TimeUnit.SECONDS)).isInstanceOf(DistException.class)
                .hasMessageStartingWith("rank 1: lost");
    }
}
