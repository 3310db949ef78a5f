package woodflow.distributed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import woodflow.cli.Main;
import woodflow.core.Jvm;
import woodflow.core.Tensors;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Ranks never wait forever and never listen wider than asked (issue 31): a rank whose peers do not appear gives up
 * within the join timeout with one line naming who is missing and no C++ trace; RANK without WORLD_SIZE,
 * WORLD_SIZE < 1 and RANK >= WORLD_SIZE are errors; the rendezvous store listens on MASTER_ADDR's interface only.
 */
class RendezvousTest {
    static Map<String, String> env(String... kv) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    static String refusal(Map<String, String> env) {
        try {
            DistConfig.resolve(env, null, null, null, null);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + env);
    }

    @Test
    void aGroupTheVariablesCannotDescribeIsRefused() {
        assertThat(refusal(env("RANK", "1"))).isEqualTo("RANK is 1 but WORLD_SIZE is not set: set WORLD_SIZE to the "
                + "number of ranks in the group (1 trains alone), or unset RANK");
        assertThat(refusal(env("RANK", "0"))).startsWith("RANK is 0 but WORLD_SIZE is not set");
        assertThat(refusal(env("WORLD_SIZE", "0"))).isEqualTo("WORLD_SIZE must be at least 1 (the number of ranks; "
                + "1 trains alone), got 0");
        assertThat(refusal(env("WORLD_SIZE", "-2", "RANK", "0"))).startsWith("WORLD_SIZE must be at least 1");
        assertThat(refusal(env("WORLD_SIZE", "2", "RANK", "2"))).isEqualTo("RANK 2 is not a rank of a group of "
                + "WORLD_SIZE 2: ranks are 0..1");
        assertThat(refusal(env("WORLD_SIZE", "1", "RANK", "1"))).isEqualTo("RANK 1 is not a rank of a group of "
                + "WORLD_SIZE 1: ranks are 0..0");
        assertThat(refusal(env("WORLD_SIZE", "2"))).startsWith("WORLD_SIZE is 2 but this process's RANK is not set");
        assertThat(refusal(env("WORLD_SIZE", "two"))).isEqualTo("WORLD_SIZE must be a whole number, got 'two'");
        assertThat(refusal(env("WORLD_SIZE", "2", "RANK", "0", "WOODFLOW_DIST_JOIN_TIMEOUT", "0")))
                .startsWith("WOODFLOW_DIST_JOIN_TIMEOUT must be at least 1");
        // a one-process run: nothing set, or a group of one
        assertThat(DistConfig.resolve(env(), null, null, null, null)).isNull();
        assertThat(DistConfig.resolve(env("WORLD_SIZE", "1", "RANK", "0"), null, null, null, null)).isNull();
        // the join timeout: well under a minute on one machine, settable
        DistConfig local = DistConfig.resolve(env("WORLD_SIZE", "2", "RANK", "0"), null, null, null, null);
        assertThat(local.joinTimeoutMillis()).isEqualTo(30_000);
        assertThat(local.bind()).isEqualTo("127.0.0.1");
        assertThat(DistConfig.resolve(env("WORLD_SIZE", "2", "RANK", "0", "WOODFLOW_DIST_JOIN_TIMEOUT", "5"), null,
                null, null, null).joinTimeoutMillis()).isEqualTo(5_000);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aRankWhoseMasterNeverAppearsGivesUpWithOneLineAndNoTrace(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("tiny.yaml"), """
                model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                        d_c: [2, 2], d_s: [4, 4]}
                data: {kind: embedded, count: 64, holdout: 16}
                train: {batch: 8, iterations: 2}
                """);
        int port = LocalLauncher.freePort();
        ProcessBuilder pb = Jvm.child(Main.class).environment("RANK", "1").environment("WORLD_SIZE", "2")
                .environment("MASTER_ADDR", "127.0.0.1").environment("MASTER_PORT", Integer.toString(port))
                .environment("WOODFLOW_DIST_JOIN_TIMEOUT", "3")
                .args("train", "--config", cfg.toString(), "--out", dir.resolve("run").toString(), "--no-report")
                .processBuilder();
        long t0 = System.nanoTime();
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(err.strip()).isEqualTo("woodflow: error: rank 1: rank 0 (the master) did not appear at 127.0.0.1:"
                + port + " within 3 s (WOODFLOW_DIST_JOIN_TIMEOUT): start rank 0 with the same MASTER_ADDR and "
                + "MASTER_PORT, or check that this machine can reach that address");
        assertThat(seconds).as("seconds to give up").isLessThan(30);

        // RANK without WORLD_SIZE: one line, nothing trained
        Process alone = Jvm.child(Main.class).environment("RANK", "1").args("train", "--config", cfg.toString(),
                "--out", dir.resolve("alone").toString(), "--no-report").processBuilder().start();
        String aloneErr = new String(alone.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(alone.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(alone.exitValue()).isEqualTo(1);
        assertThat(aloneErr.strip()).startsWith("woodflow: error: RANK is 1 but WORLD_SIZE is not set");
        assertThat(dir.resolve("alone")).doesNotExist();
    }

    static DistConfig config(int port, int rank, int worldSize, long joinMillis) {
        return new DistConfig("127.0.0.1", port, rank, worldSize, rank, 20_000, joinMillis, "127.0.0.1", "127.0.0.1");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theRanksThatDoNotJoinAreNamedWithinTheJoinTimeout() throws Exception {
        Tensors.load();
        int port = LocalLauncher.freePort();
        // a group of three with rank 1 missing: rank 0 and rank 2 both name it
        CompletableFuture<Throwable> rank2 = CompletableFuture.supplyAsync(() -> {
            try (DistContext c = DistContext.join(config(port, 2, 3, 3000))) { // gives up before rank 0 does
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> DistContext.join(config(port, 0, 3, 4000))).isInstanceOf(DistException.class)
                .hasMessage("rank 0: rank 1 of the group of 3 did not join within 4 s (WOODFLOW_DIST_JOIN_TIMEOUT): "
                        + "start every rank with WORLD_SIZE=3 and the same MASTER_ADDR and MASTER_PORT (127.0.0.1:"
                        + port + ")");
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(20);
        assertThat(rank2.get(30, TimeUnit.SECONDS)).isInstanceOf(DistException.class)
                .hasMessageStartingWith("rank 2: rank 1 of the group of 3 did not join within 3 s");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theStoreListensOnMasterAddrsInterfaceOnly() throws Exception {
        Tensors.load();
        int port = LocalLauncher.freePort();
        CompletableFuture<Throwable> rank1 = CompletableFuture.supplyAsync(() -> {
            try (DistContext c = DistContext.join(config(port, 1, 2, 20_000))) {
                c.barrier();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        List<String> listening;
        try (DistContext c = DistContext.join(config(port, 0, 2, 20_000))) {
            listening = listeners(port);
            c.barrier();
        }
        assertThat(rank1.get(60, TimeUnit.SECONDS)).isNull();
        assertThat(listening).as("local addresses listening on port " + port).isNotEmpty()
                .allMatch(a -> a.equals("127.0.0.1"));
    }

    /** The local addresses of the sockets listening on {@code port}, from the kernel's tables. */
    static List<String> listeners(int port) throws Exception {
        List<String> out = new ArrayList<>();
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            List<String> lines = Files.readAllLines(Path.of(table)); // read once: the table changes meanwhile
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                String[] local = f[1].split(":");
                if (!f[3].equals("0A") || Integer.parseInt(local[1], 16) != port) continue;
                out.add(address(local[0]));
            }
        }
        return out;
    }

    /** A /proc/net address in hex (little-endian words) as text: 0100007F is 127.0.0.1. */
    static String address(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int w = 0; w < b.length / 4; w++) {
            for (int i = 0; i < 4; i++) {
                b[w * 4 + i] = (byte) Integer.parseInt(hex.substring(w * 8 + (3 - i) * 2, w * 8 + (3 - i) * 2 + 2), 16);
            }
        }
        try {
            return java.net.InetAddress.getByAddress(b).getHostAddress(); // a v4-mapped address as IPv4
        } catch (java.net.UnknownHostException e) {
            return hex;
        }
    }
}
