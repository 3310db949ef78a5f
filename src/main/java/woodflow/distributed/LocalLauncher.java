package woodflow.distributed;

import woodflow.core.Jvm;
import woodflow.core.ProcessGroup;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code woodflow train --nproc N}: the group of N ranks on this machine, as torchrun's standalone mode starts it.
 * Each rank is a child JVM ({@link Jvm}) running {@code woodflow train} with the same arguments and
 * {@code --threads} = its share of the cores, with {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
 * {@code MASTER_ADDR=127.0.0.1} and a free {@code MASTER_PORT} in its environment. Rank 0's output is this
 * process's; rank K's goes to {@code OUT/logs/rank-K.log}. When a rank fails, the others are stopped and the launcher
 * fails naming it.
 */
public final class LocalLauncher {
    private final int nproc;
    private final int threadsPerRank;
    private final Path logDir;
    private final PrintStream err;

    public LocalLauncher(int nproc, int threads, Path runDir, PrintStream err) {
        checkRanks(nproc);
        this.nproc = nproc;
        this.threadsPerRank = Math.max(1, threads / nproc);
        this.logDir = runDir.resolve("logs");
        this.err = err;
    }

    private static void checkRanks(int nproc) {
        if (nproc < 1) throw new IllegalArgumentException("--nproc must be at least 1, got " + nproc);
    }

    /** Fails unless {@code nproc} ranks can share a global batch of {@code batch} images equally. */
    public static void checkGroup(int nproc, int batch) {
        checkRanks(nproc);
        if (batch % nproc != 0) {
            throw new IllegalArgumentException("the global batch " + batch + " is not divisible by --nproc " + nproc
                    + ": choose a batch that is a multiple of " + nproc + " (--batch)");
        }
    }

    /** A port free on 127.0.0.1 now (another process may take it before rank 0 does; rare, and then reported). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    /**
     * A rank's arguments: the words of {@code command} (say "bench", "train"), then the user's arguments that followed
     * them in {@code originalArgs}, without {@code --nproc} and {@code --threads} (the launcher sets each rank's).
     */
    public static List<String> rankArgs(List<String> originalArgs, String... command) {
        List<String> out = new ArrayList<>(List.of(command));
        int from = 0;
        for (String word : command) from = Math.max(from, originalArgs.subList(from, originalArgs.size()).indexOf(word)
                + from + 1);
        for (int i = from; i < originalArgs.size(); i++) {
            String a = originalArgs.get(i);
            if (a.equals("--nproc") || a.equals("--threads")) {
                i++;
            } else if (!a.startsWith("--nproc=") && !a.startsWith("--threads=")) {
                out.add(a);
            }
        }
        return out;
    }

    /** The child command lines: {@code mainClass} with {@code args} and this rank's {@code --threads}. */
    List<String> command(String mainClass, List<String> args) {
        return Jvm.child(mainClass).args(args).args("--threads", Integer.toString(threadsPerRank)).command();
    }

    /**
     * Runs the group to the end; returns 0 when every rank succeeded, else 1 (after stopping the others, with one
     * line naming the failed rank). If this process is stopped, so are the ranks.
     */
    public int run(String mainClass, List<String> args) throws IOException, InterruptedException {
        int port = freePort();
        Files.createDirectories(logDir);
        try (ProcessGroup ranks = new ProcessGroup()) {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(command(mainClass, args));
                Map<String, String> env = pb.environment();
                env.put("MASTER_ADDR", "127.0.0.1");
                env.put("MASTER_PORT", Integer.toString(port));
                env.put("RANK", Integer.toString(r));
                env.put("LOCAL_RANK", Integer.toString(r));
                env.put("WORLD_SIZE", Integer.toString(nproc));
                ranks.start(pb, r == 0 ? ProcessGroup.Output.inherit() : ProcessGroup.Output.file(log(r)));
            }
            ProcessGroup.Failure f = ranks.waitAll();
            if (f == null) return 0;
            err.println("woodflow: error: rank " + f.index() + " of " + nproc + " exited with code " + f.exitCode()
                    + (f.index() == 0 ? "" : " (its output: " + log(f.index()) + ")") + "; stopped the other ranks");
            return 1;
        }
    }

    private Path log(int rank) {
        return logDir.resolve("rank-" + rank + ".log");
    }
}
