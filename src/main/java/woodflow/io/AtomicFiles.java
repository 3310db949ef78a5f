package woodflow.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes a file so that readers see either the old content or the complete new one, never a torn file: the bytes
 * go to a temporary file {@code .NAME.tmp-PID} in the same folder, are forced to disk, and the temporary file is
 * renamed over the target. If the write fails (a full disk), the temporary file is removed and the old file is
 * untouched. A process killed mid-write leaves only its temporary file, which {@link #removeStaleTemporaries}
 * deletes later.
 */
public final class AtomicFiles {
    private static final Pattern TEMPORARY = Pattern.compile("\\..+\\.tmp-(\\d{1,18})");

    private AtomicFiles() {}

    /** Test hook: when set, writes whose target name contains this string fail as a full disk would. */
    static volatile String failWritesContaining = System.getProperty("woodflow.failWrites");

    /**
     * Test and soak hook ({@code -Dwoodflow.slowWrites=PART:MILLIS}): writes whose target name contains PART pause
     * for MILLIS after half their bytes reached the temporary file, so a test can kill the process mid-write.
     */
    static volatile String slowWrites = System.getProperty("woodflow.slowWrites");

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, bytes.length, out -> out.write(ByteBuffer.wrap(bytes)));
    }

    /** What writes a file's content, in order, to a {@link Sink}. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Sink out) throws IOException;
    }

    /**
     * Writes {@code size} bytes that {@code content} produces, atomically as {@link #write(Path, byte[])} does, without
     * holding them in memory at once (a checkpoint streams from the tensors' memory).
     */
    public static void write(Path target, long size, Content content) throws IOException {
        if (Files.isDirectory(target)) {
            // the rename would replace an empty folder, or fail naming the temporary file
            throw new IOException("cannot write " + target + ": a folder of that name exists");
        }
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": cannot create its folder " + dir
                    + (Files.exists(dir) ? " (a file of that name exists)" : " (" + e.getMessage() + ")"), e);
        }
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                String name = target.getFileName().toString();
                String fail = failWritesContaining;
                if (fail != null && !fail.isEmpty() && name.contains(fail)) {
                    throw new IOException("No space left on device (simulated)");
                }
                Sink sink = new Sink(ch, size / 2, pauseFor(name));
                content.writeTo(sink);
                if (sink.written != size) {
                    throw new IOException("wrote " + sink.written + " bytes where " + size + " were announced");
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            // the operating system's reason, without the temporary file's name
            String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                    : e.getMessage();
            throw new IOException("cannot write " + target + ": " + reason, e);
        }
    }

    /** The temporary file's channel, counting what is written (and pausing at the test hook's half-way point). */
    public static final class Sink {
        private final FileChannel ch;
        private final long pauseAt;
        private long pauseMillis;
        private long written;

        Sink(FileChannel ch, long pauseAt, long pauseMillis) {
            this.ch = ch;
            this.pauseAt = pauseAt;
            this.pauseMillis = pauseMillis;
        }

        /** Writes all of {@code b}'s remaining bytes. */
        public void write(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (pauseMillis > 0 && written + b.remaining() >= pauseAt) {
                    int limit = b.limit();
                    b.limit(b.position() + (int) (pauseAt - written));
                    while (b.hasRemaining()) written += ch.write(b);
                    b.limit(limit);
                    ch.force(true);
                    sleep(pauseMillis);
                    pauseMillis = 0;
                    continue;
                }
                written += ch.write(b);
            }
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    private static long pauseFor(String name) {
        String spec = slowWrites;
        if (spec == null || spec.isEmpty()) return 0;
        int colon = spec.lastIndexOf(':');
        if (colon <= 0 || !name.contains(spec.substring(0, colon))) return 0;
        return Long.parseLong(spec.substring(colon + 1).strip());
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing");
        }
    }

    /**
     * Deletes the temporary files ({@code .NAME.tmp-PID}) in {@code dir} that processes which no longer run left
     * behind when they were killed mid-write; returns how many. A live process's temporary file is left alone.
     */
    public static int removeStaleTemporaries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        List<Path> stale;
        try (Stream<Path> s = Files.list(dir)) {
            stale = s.filter(p -> {
                Matcher m = TEMPORARY.matcher(p.getFileName().toString());
                if (!m.matches()) return false;
                long pid = Long.parseLong(m.group(1));
                return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(h -> !h.isAlive())
                        .orElse(true);
            }).toList();
        }
        for (Path p : stale) Files.deleteIfExists(p);
        return stale.size();
    }

    /**
     * Deletes a directory and everything under it, as far as it can: for temporary folders, where a leftover is
     * harmless.
     */
    public static void deleteTreeQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
