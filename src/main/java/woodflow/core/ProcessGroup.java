package woodflow.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The child processes of one task (the ranks of a local group, a study's run, a soak's trainer, a benchmark's
 * measurement), started, watched and stopped in one way. {@link Jvm} builds a child JVM's command; this runs it:
 * <pre>
 *   try (ProcessGroup group = new ProcessGroup()) {
 *       ProcessGroup.Child c = group.start(pb, ProcessGroup.Output.file(log));   // output streamed to a sink
 *       Integer code = c.waitFor(Duration.ofMinutes(10));                        // null: still running
 *       ProcessGroup.Failure f = group.waitAll();                                // the first to fail stops the rest
 *   }                                                                            // close: whatever still runs is stopped
 * </pre>
 * A shutdown hook stops the group's processes if this JVM ends first (Ctrl-C, a kill), so no child outlives its
 * parent. Stopping is polite first: SIGTERM to a process and its descendants, which lets a JVM run its own shutdown
 * hooks, then SIGKILL to whatever is left after the grace period.
 */
public final class ProcessGroup implements AutoCloseable {
    /** How long a stopped process has to end after SIGTERM before it gets SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(10);
    /** The same, when this JVM is shutting down and cannot wait long. */
    private static final Duration GRACE_AT_SHUTDOWN = Duration.ofSeconds(2);

    /** Where a child's output goes. */
    public sealed interface Output {
        /** This process's own output and error. */
        static Output inherit() {
            return new Inherit();
        }

        /** Output and error together into {@code file}, created anew. */
        static Output file(Path file) {
            return new ToFile(file, false);
        }

        /** Output and error together, appended to {@code file}. */
        static Output appendTo(Path file) {
            return new ToFile(file, true);
        }

        /** Each line of the output to {@code sink} (from a thread of its own), the error to this process's. */
        static Output lines(Consumer<String> sink) {
            return new Lines(sink);
        }
    }

    private record Inherit() implements Output {}

    private record ToFile(Path file, boolean append) implements Output {}

    private record Lines(Consumer<String> sink) implements Output {}

    /** The first child that failed: its index in start order and its exit code. */
    public record Failure(int index, int exitCode) {}

    /** One started child. */
    public static final class Child {
        private final Process process;
        private final Thread reader;

        private Child(Process process, Thread reader) {
            this.process = process;
            this.reader = reader;
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Waits for the child to end (and for its output to be read); returns its exit code. */
        public int waitFor() throws InterruptedException {
            int code = process.waitFor();
            if (reader != null) reader.join();
            return code;
        }

        /** As {@link #waitFor()}, at most {@code timeout}: null when the child still runs then. */
        public Integer waitFor(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) return null;
            return waitFor();
        }

        /** SIGKILL to the child and its descendants at once; waits for it and returns its exit code. */
        public int kill() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            return waitFor();
        }

        /** SIGTERM to the child and its descendants (a JVM runs its shutdown hooks and ends). */
        private void terminate() {
            if (!process.isAlive()) return;
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
        }

        /** Waits for the child until {@code deadline} (System.nanoTime), then SIGKILL to what is left. */
        private void killAfter(long deadline) {
            try {
                long left = deadline - System.nanoTime();
                if (left > 0 && process.waitFor(left, TimeUnit.NANOSECONDS)) return;
                if (process.isAlive()) kill();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private final List<Child> children = new ArrayList<>();
    private final Thread hook;

    public ProcessGroup() {
        hook = new Thread(() -> stopAll(GRACE_AT_SHUTDOWN), "woodflow-stop-children");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts {@code pb} with its output going to {@code output}. */
    public synchronized Child start(ProcessBuilder pb, Output output) throws IOException {
        Thread reader = null;
        if (output instanceof Inherit) {
            pb.inheritIO();
        } else if (output instanceof ToFile f) {
            Path parent = f.file().toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            pb.redirectErrorStream(true).redirectOutput(f.append() ? ProcessBuilder.Redirect.appendTo(f.file().toFile())
                    : ProcessBuilder.Redirect.to(f.file().toFile()));
        } else {
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        }
        Process p = pb.start();
        if (output instanceof Lines l) {
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) l.sink().accept(line);
                } catch (IOException e) {
                    l.sink().accept("read error: " + e.getMessage());
                }
            }, "woodflow-child-output");
            reader.setDaemon(true);
            reader.start();
        }
        Child c = new Child(p, reader);
        children.add(c);
        return c;
    }

    /**
     * Waits until every child has ended. When one ends with a non-zero code, the others are stopped (SIGTERM, then
     * SIGKILL after a grace period) and that one is returned; null when all succeeded.
     */
    public Failure waitAll() throws InterruptedException {
        List<Child> all;
        synchronized (this) {
            all = List.copyOf(children);
        }
        boolean[] done = new boolean[all.size()];
        int remaining = all.size();
        while (remaining > 0) {
            for (int i = 0; i < all.size(); i++) {
                Child c = all.get(i);
                if (done[i] || c.isAlive()) continue;
                done[i] = true;
                remaining--;
                int code = c.waitFor();
                if (code != 0) {
                    stopAll(GRACE);
                    return new Failure(i, code);
                }
            }
            Thread.sleep(100);
        }
        return null;
    }

    /** SIGTERM to every child still running, then SIGKILL to those that have not ended after {@code grace}. */
    private void stopAll(Duration grace) {
        List<Child> all;
        synchronized (this) {
            all = List.copyOf(children);
        }
        all.forEach(Child::terminate);
        long deadline = System.nanoTime() + grace.toNanos();
        for (Child c : all) c.killAfter(deadline);
    }

    /** Stops whatever still runs (SIGTERM, then SIGKILL after the grace period) and removes the shutdown hook. */
    @Override
    public void close() {
        stopAll(GRACE);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or will run: nothing to undo
        }
    }
}
