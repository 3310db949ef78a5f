package woodflow.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tells whether a trainer holds a run folder's {@code run.lock} without touching the lock. {@link
 * woodflow.train.RunLock} takes an OS lock ({@code fcntl}, shown as POSIX in {@code /proc/locks}) with {@code tryLock},
 * so even a momentary probe with {@code tryLock} could make a trainer starting at that instant fail with "in use by
 * another trainer". Instead this reads the kernel's lock table, {@code /proc/locks}, and looks for the lock file's
 * device and inode. Where there is no {@code /proc/locks} (not Linux), it falls back to asking whether the process
 * named in the file ({@code pid N}) is alive, which cannot tell a finished in-process trainer from a running one.
 */
final class LockProbe {
    private static final Path PROC_LOCKS = Path.of("/proc/locks");

    /** What the lock file says about its run. */
    enum State { NONE, HELD, RELEASED }

    private LockProbe() {}

    static State probe(Path runDir) {
        Path file = runDir.resolve("run.lock");
        if (!Files.isRegularFile(file)) return State.NONE;
        try {
            if (Files.isReadable(PROC_LOCKS)) return heldInKernel(file) ? State.HELD : State.RELEASED;
        } catch (IOException | RuntimeException e) {
            // fall through to the pid
        }
        long pid = pidIn(file);
        boolean alive = pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        return alive ? State.HELD : State.RELEASED;
    }

    /** Whether /proc/locks lists a lock on this file: lines like {@code 2: POSIX ADVISORY WRITE 7152 fe:00:2146562 0 EOF}. */
    private static boolean heldInKernel(Path file) throws IOException {
        long inode = ((Number) Files.getAttribute(file, "unix:ino")).longValue();
        long dev = ((Number) Files.getAttribute(file, "unix:dev")).longValue();
        // Linux's dev_t: the major number in bits 8..19 (and above 32), the minor in bits 0..7 and 20..31
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        List<String> lines = Files.readAllLines(PROC_LOCKS, StandardCharsets.US_ASCII);
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            // "->" marks a waiter; the id field is then one further along
            int at = f.length > 1 && f[1].equals("->") ? 6 : 5;
            if (f.length <= at) continue;
            String[] id = f[at].split(":");
            if (id.length != 3) continue;
            try {
                if (Long.parseLong(id[2]) == inode && Long.parseLong(id[0], 16) == major
                        && Long.parseLong(id[1], 16) == minor) {
                    return true;
                }
            } catch (NumberFormatException e) {
                // not a lock line
            }
        }
        return false;
    }

    private static long pidIn(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8).strip();
            return s.startsWith("pid ") ? Long.parseLong(s.substring(4).strip()) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
