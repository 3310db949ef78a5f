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

/**
 * Writes a file so that readers see either the old content or the complete new one, never a torn file: the bytes
 * go to a temporary file in the same folder, are forced to disk, and the temporary file is renamed over the target.
 * If the write fails (a full disk), the temporary file is removed and the old file is untouched.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Test hook: when set, writes whose target name contains this string fail as a full disk would. */
    static volatile String failWritesContaining = System.getProperty("woodflow.failWrites");

    public static void write(Path target, byte[] bytes) throws IOException {
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
                String fail = failWritesContaining;
                if (fail != null && !fail.isEmpty() && target.getFileName().toString().contains(fail)) {
                    throw new IOException("No space left on device (simulated)");
                }
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }
}
