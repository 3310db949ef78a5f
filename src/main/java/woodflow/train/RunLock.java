package woodflow.train;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Makes a run folder exclusive to one trainer: an OS file lock on {@code run.lock}, which the operating system
 * releases when the process ends in any way (so a killed trainer never leaves a stale lock). The file stays: it is
 * also the marker that tells a woodflow run folder from any other ({@link woodflow.io.OutputGuard#RUN_MARKER}).
 */
public final class RunLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;
    private final Path file;
    /** Whether {@link #acquire} created the folder, and the marker file. */
    private final boolean newFolder, newMarker;

    private RunLock(FileChannel channel, FileLock lock, Path file, boolean newFolder, boolean newMarker) {
        this.channel = channel;
        this.lock = lock;
        this.file = file;
        this.newFolder = newFolder;
        this.newMarker = newMarker;
    }

    public static RunLock acquire(Path runDir) throws IOException {
        boolean newFolder = !Files.exists(runDir);
        boolean newMarker = !Files.exists(runDir.resolve(woodflow.io.OutputGuard.RUN_MARKER));
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new IOException("cannot create the run folder " + runDir + ": " + why(runDir, e), e);
        }
        Path file = runDir.resolve(woodflow.io.OutputGuard.RUN_MARKER);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new IOException("cannot create the run lock " + file + ": " + why(runDir, e), e);
        }
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
            ch.close();
            throw new IllegalStateException("run folder " + runDir + " is in use by another trainer"
                    + (holder.isEmpty() ? "" : " (" + holder + ")") + "; wait for it to finish or use another --out");
        }
        try {
            ch.truncate(0);
            String pid = "pid " + ProcessHandle.current().pid();
            ch.write(java.nio.ByteBuffer.wrap(pid.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        } catch (IOException e) {
            // The pid is only shown to a second trainer; the lock holds without it (e.g. on a full disk, where the
            // first real write reports the problem).
        }
        return new RunLock(ch, l, file, newFolder, newMarker);
    }

    /** Why a folder could not be created: a file in the way (here or above), or the operating system's reason. */
    private static String why(Path dir, IOException e) {
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) return p + " is a file, not a folder; choose another --out";
        }
        String reason = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                : woodflow.core.Reasons.of(e);
        return reason + "; choose a writable --out";
    }

    /**
     * For a run that failed before it wrote anything: releases the lock and, when this lock made the marker and the
     * folder holds nothing else, removes the marker (and the folder, when this lock made it too), so that a failed
     * start does not leave a run folder of nothing behind. A folder with anything else in it is kept as it is.
     */
    public void closeAndRemoveIfUnused() throws IOException {
        close();
        if (!newMarker) return;
        Path dir = file.getParent();
        try (var files = Files.list(dir)) {
            if (files.anyMatch(p -> !p.equals(file))) return;
        }
        Files.deleteIfExists(file);
        if (newFolder) Files.deleteIfExists(dir);
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
