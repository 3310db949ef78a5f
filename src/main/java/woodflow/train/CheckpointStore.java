package woodflow.train;

import org.bytedeco.javacpp.PointerScope;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a run folder: {@code checkpoints/ckpt-ITERATION.safetensors}, the newest N kept, plus
 * {@code checkpoints/best.safetensors}. Loading takes the newest checkpoint that reads back intact; a torn or corrupt
 * one is reported and skipped.
 */
public final class CheckpointStore {
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d+)\\.safetensors");
    private final Path dir;
    private final int keep;

    public CheckpointStore(Path runDir, int keep) {
        this.dir = runDir.resolve("checkpoints");
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    public Path pathFor(long iteration) {
        return dir.resolve(String.format("ckpt-%08d.safetensors", iteration));
    }

    public Path best() {
        return dir.resolve("best.safetensors");
    }

    /** Checkpoint files, newest first. */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(out::add);
        }
        out.sort(Comparator.comparingLong(CheckpointStore::iterationOf).reversed());
        return out;
    }

    static long iterationOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Whether the folder holds a checkpoint a run could continue from: a {@code ckpt-*} or {@code best.safetensors}
     * (the first evaluation writes it, and a full disk can stop the run before any {@code ckpt-*} is written).
     */
    public boolean holdsAny() throws IOException {
        return !list().isEmpty() || Files.isRegularFile(best());
    }

    /** Deletes all but the newest {@code keep} checkpoints (best.safetensors is separate and kept). */
    public void prune() throws IOException {
        List<Path> all = list();
        for (int i = keep; i < all.size(); i++) Files.deleteIfExists(all.get(i));
    }

    /**
     * The checkpoint a resumed run starts from: the newest that reads back intact (each unreadable one passed to
     * {@code warn}), else {@code best.safetensors} when it is the only one (a run stopped before its first
     * {@code ckpt-*}: it holds the whole state too), or null when there is no checkpoint at all. When checkpoints exist but none reads back, this
     * throws rather than let the run start over and overwrite the folder.
     */
    public Checkpoint forResume(Consumer<String> warn) throws IOException {
        List<String> problems = new ArrayList<>();
        Checkpoint c = latestValid(msg -> {
            problems.add(msg);
            warn.accept(msg);
        });
        if (c == null && problems.isEmpty() && Files.isRegularFile(best())) c = Checkpoint.read(best());
        if (c == null && !problems.isEmpty()) {
            throw new IOException("no checkpoint in " + dir + " reads back intact (" + problems.get(0)
                    + (problems.size() > 1 ? "; and " + (problems.size() - 1) + " more" : "") + "); move the folder "
                    + "away to start the run over");
        }
        return c;
    }

    /** After a failed write: what the run folder still holds, and how to go on. */
    String resumeHint() {
        try {
            List<Path> all = list();
            if (all.isEmpty() && Files.isRegularFile(best())) {
                long iteration;
                try (PointerScope scope = new PointerScope()) {
                    iteration = Checkpoint.read(best()).state().iteration();
                }
                return "the run is kept in " + dir.getParent().relativize(best()) + " (iteration "
                        + iteration + "): fix the problem (e.g. free disk space) and "
                        + "continue with `woodflow train --out " + dir.getParent() + " --resume`, or evaluate it with "
                        + "`woodflow eval --checkpoint " + dir.getParent() + "`";
            }
            if (all.isEmpty()) return "no checkpoint was written yet: fix the problem and start the run again";
            return "the run is kept up to " + dir.getParent().relativize(all.get(0)) + " (iteration "
                    + iterationOf(all.get(0)) + "): fix the problem (e.g. free disk space) and continue with "
                    + "`woodflow train --out " + dir.getParent() + " --resume`";
        } catch (IOException | RuntimeException e) {
            return "fix the problem and continue with `woodflow train --out " + dir.getParent() + " --resume`";
        }
    }

    /**
     * The newest checkpoint that reads back intact, or null when there is none. Each unreadable one is passed to
     * {@code warn} with the reason.
     */
    public Checkpoint latestValid(Consumer<String> warn) throws IOException {
        for (Path p : list()) {
            try {
                return Checkpoint.read(p);
            } catch (IOException | RuntimeException e) {
                warn.accept("skipping unreadable checkpoint " + p.getFileName() + ": " + e.getMessage());
            }
        }
        return null;
    }
}
