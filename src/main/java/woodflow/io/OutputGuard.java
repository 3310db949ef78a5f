package woodflow.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The one rule for where a command may write, checked before anything is written:
 * <ul>
 *   <li>an output path that is empty or blank is refused (an empty {@code --out} would mean the current folder);</li>
 *   <li>an output that is, or is inside, anything the command reads (a checkpoint, a run folder, a data folder, a
 *       config) is refused; for an output folder, so is an input inside it, unless it is one of the folder's own
 *       files (a run's {@code config.yaml});</li>
 *   <li>an existing output file is replaced only when it is of the kind the command writes (a PNG for a PNG, a
 *       torch.save zip for an export, ...) or the user passed {@code --force}; the replacement itself is atomic
 *       ({@link AtomicFiles});</li>
 *   <li>an output folder is new, empty, or recognised as one woodflow wrote (a run folder by its marker file
 *       {@link #RUN_MARKER}), never a folder holding other files.</li>
 * </ul>
 * Paths are compared as the file system resolves them: symbolic links are followed, {@code ./x} and {@code a/../x}
 * mean what the kernel makes of them, and a hard link to an input is the input.
 */
public final class OutputGuard {
    private OutputGuard() {}

    /** The file that marks a folder as a woodflow run: the run's lock, which a trainer (and import) creates first. */
    public static final String RUN_MARKER = "run.lock";

    /** A path the command reads, and the option (or config key) that named it, e.g. {@code --checkpoint}. */
    public record Input(String option, Path path) {
        public Input {
            Objects.requireNonNull(option);
        }

        public static Input of(String option, Path path) {
            return new Input(option, path);
        }

        /** An input named by a string that may be null or empty (a config's data.path): none then. */
        public static Input of(String option, String path) {
            return new Input(option, path == null || path.isBlank() ? null : Path.of(path));
        }
    }

    /**
     * What a command writes into a file: its description ("a PNG image"), the name endings a new file takes (the
     * first is the one suggested), and how an existing file of that kind begins.
     */
    public record FileKind(String what, List<String> endings, Predicate<byte[]> looksLike) {
        /** A PNG image (sample grids, data grids). */
        public static final FileKind PNG = new FileKind("a PNG image", List.of(".png"),
                head -> startsWith(head, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
        /** A torch.save file: a zip archive. */
        public static final FileKind TORCH_SAVE = new FileKind("a torch.save file", List.of(".pt", ".pth"),
                head -> startsWith(head, new byte[] {'P', 'K', 3, 4}));
        /** Lines of JSON objects, appended to (an empty file is one). */
        public static final FileKind JSON_LINES = new FileKind("a file of JSON lines", List.of(),
                head -> new String(head, StandardCharsets.UTF_8).stripLeading().startsWith("{"));

        /** A CSV file whose first line is {@code header} (what the command writes first). */
        public static FileKind csv(String header) {
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            return new FileKind("a CSV file that begins with the line " + header, List.of(".csv"),
                    head -> startsWith(head, h) && (head.length == h.length || head[h.length] == '\n'
                            || head[h.length] == '\r'));
        }

        private static boolean startsWith(byte[] head, byte[] prefix) {
            return head.length >= prefix.length && Arrays.equals(head, 0, prefix.length, prefix, 0, prefix.length);
        }
    }

    /**
     * What an output folder holds when woodflow wrote it: a description ("a woodflow run folder"), the test that
     * recognises one, what a refusal says of a folder that is not one (after "holds other files"), and the names of
     * its own files that may also be inputs (a run's config.yaml on --resume).
     */
    public record FolderKind(String what, Predicate<Path> recognised, String unrecognised, List<String> ownInputs) {
        /** A run folder: its marker {@link #RUN_MARKER}. */
        public static final FolderKind RUN = new FolderKind("a woodflow run folder",
                dir -> Files.exists(dir.resolve(RUN_MARKER)), " and is not a woodflow run folder (no " + RUN_MARKER
                + ", the marker file of a run)", List.of("config.yaml"));
        /** A folder the command fills from scratch. */
        public static final FolderKind NEW_OR_EMPTY = new FolderKind("a new or empty folder", dir -> false,
                " (this command needs a new or empty folder)", List.of());

        /** A folder recognised when every file in it has one of {@code endings} (a cache's files, say). */
        public static FolderKind holding(String what, String... endings) {
            return new FolderKind(what, dir -> {
                try (Stream<Path> s = Files.list(dir)) {
                    return s.allMatch(f -> Arrays.stream(endings).anyMatch(e -> f.getFileName().toString()
                            .endsWith(e)));
                } catch (IOException e) {
                    return false;
                }
            }, " and is not " + what + " (which holds only " + String.join(", ", endings) + " files)", List.of());
        }
    }

    /**
     * Checks an output file named by {@code option} against the rule; returns it. {@code force} allows replacing an
     * existing file of another kind (never an input).
     */
    public static Path file(String option, Path out, FileKind kind, boolean force, List<Input> inputs) {
        String shown = checkNotEmpty(option, out, kind.endings().isEmpty() ? "out.jsonl" : "out" + kind.endings()
                .get(0));
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException(option + " " + shown + " is a folder: give the file to write, e.g. "
                    + option + " " + out.resolve(suggestion(kind, "out")));
        }
        if (Files.exists(out) && !Files.isRegularFile(out)) {
            // a device (/dev/null), a pipe or a socket: the atomic rename would replace the node itself
            throw new IllegalArgumentException(option + " " + shown + " is not a regular file (a device, a pipe or a "
                    + "socket), so it is not replaced, not even with --force: give the name of a file to write");
        }
        String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
        Path target = canonical(out);
        for (Input in : present(inputs)) {
            Path source = canonical(in.path());
            boolean same = target.equals(source) || sameFile(out, in.path());
            if (same || target.startsWith(source)) {
                throw new IllegalArgumentException(option + " " + shown + (same ? " is " : " is inside ")
                        + describe(in) + " that this command reads: writing there would "
                        + (same ? "destroy it" : "put files into it") + "; choose another " + option + ", e.g. "
                        + option + " " + suggestion(kind, stem(out.getFileName() == null ? "" : out.getFileName().toString())));
            }
        }
        insideARun(option, shown, target.getParent());
        if (!kind.endings().isEmpty() && kind.endings().stream().noneMatch(name::endsWith)) {
            throw new IllegalArgumentException(option + " " + shown + ": this command writes " + kind.what()
                    + "; give a file name ending in " + String.join(" or ", kind.endings()) + ", e.g. " + option + " "
                    + suggestion(kind, stem(out.getFileName() == null ? "" : out.getFileName().toString())));
        }
        byte[] head = Files.exists(out) ? head(out) : null;
        // an empty file holds nothing to lose
        if (head != null && head.length > 0 && !force && !kind.looksLike().test(head)) {
            throw new IllegalArgumentException(option + " " + shown + " exists and is not " + kind.what() + " (what "
                    + "this command writes), so it is not replaced: choose another " + option
                    + ", or pass --force to replace it");
        }
        return out;
    }

    /** As {@link #file(String, Path, FileKind, boolean, List)}, for a few inputs. */
    public static Path file(String option, Path out, FileKind kind, boolean force, Input... inputs) {
        return file(option, out, kind, force, Arrays.asList(inputs));
    }

    /**
     * Checks an output folder named by {@code option} against the rule: new, empty, or recognised as {@code kind};
     * not an input, not inside one, and holding no input other than the kind's own files. Returns it.
     */
    public static Path folder(String option, Path out, FolderKind kind, List<Input> inputs) {
        String shown = checkNotEmpty(option, out, "runs/new");
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException(option + " " + shown + " is a file, not a folder: give a new or empty "
                    + "folder, e.g. " + option + " " + out + "-out");
        }
        Path target = canonical(out);
        for (Input in : present(inputs)) {
            Path source = canonical(in.path());
            if (target.equals(source) || target.startsWith(source) || sameFile(out, in.path())) {
                throw new IllegalArgumentException(option + " " + shown + (target.equals(source) ? " is " : " is inside ")
                        + describe(in) + " that this command reads: writing there would put files into it; choose a "
                        + "folder outside it for " + option);
            }
            if (source.startsWith(target)) {
                Path rel = target.relativize(source);
                if (rel.getNameCount() == 1 && kind.ownInputs().contains(rel.toString())) continue;
                throw new IllegalArgumentException(option + " " + shown + " holds " + describe(in) + " that this "
                        + "command reads; choose another folder for " + option + ", or move " + in.path() + " out of it");
            }
        }
        insideARun(option, shown, target.getParent());
        if (Files.isDirectory(out) && !isEmpty(out) && !kind.recognised().test(out)) {
            throw new IllegalArgumentException(option + " " + shown + " holds other files" + kind.unrecognised()
                    + "; nothing was written: choose a new or empty folder for " + option);
        }
        return out;
    }

    /** As {@link #folder(String, Path, FolderKind, List)}, for a few inputs. */
    public static Path folder(String option, Path out, FolderKind kind, Input... inputs) {
        return folder(option, out, kind, Arrays.asList(inputs));
    }

    /**
     * Refuses an output whose folder {@code dir} is, or is inside, a woodflow run folder: a run's files are its
     * trainer's (a sample grid over another run's curve.png, a benchmark line in its metrics.jsonl).
     */
    private static void insideARun(String option, String shown, Path dir) {
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(RUN_MARKER))) {
                throw new IllegalArgumentException(option + " " + shown + " is inside the woodflow run folder " + d
                        + ", whose files are its trainer's; choose an " + option + " outside it");
            }
        }
    }

    /**
     * The path as the file system resolves it: each existing component with its symbolic links followed, the rest
     * (not yet created) appended; {@code .} and {@code ..} taken as the kernel takes them (after the link).
     */
    public static Path canonical(Path p) {
        Path abs = p.toAbsolutePath();
        Path current = abs.getRoot();
        boolean exists = true;
        for (Path part : abs) {
            String n = part.toString();
            if (n.equals(".")) continue;
            if (n.equals("..")) {
                current = current.getParent() == null ? current : current.getParent();
                continue;
            }
            Path next = current.resolve(n);
            if (exists && Files.exists(next)) {
                try {
                    current = next.toRealPath();
                    continue;
                } catch (IOException e) {
                    // unreadable on the way: compare the path as written
                }
            }
            exists = false;
            current = next;
        }
        return current;
    }

    /**
     * Refuses an empty or blank path for {@code option} (which would mean the current folder), with {@code example}
     * as the fix; returns it as shown.
     */
    public static String checkNotEmpty(String option, Path out, String example) {
        String shown = out == null ? "" : out.toString();
        if (shown.isBlank()) {
            throw new IllegalArgumentException(option + " is empty: give a path, e.g. " + option + " " + example
                    + " (an empty path would mean the current folder)");
        }
        return shown;
    }

    private static List<Input> present(List<Input> inputs) {
        List<Input> out = new ArrayList<>();
        for (Input in : inputs) if (in != null && in.path() != null && !in.path().toString().isBlank()) out.add(in);
        return out;
    }

    private static String describe(Input in) {
        String kind = Files.isDirectory(in.path()) ? "the folder" : "the file";
        return kind + " " + in.path() + " (" + in.option() + ")";
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static byte[] head(Path file) {
        if (!Files.isRegularFile(file)) return new byte[] {'?'}; // a device or a socket: never "of the kind"
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(4096);
        } catch (IOException e) {
            return new byte[] {'?'};
        }
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        String s = dot > 0 ? name.substring(0, dot) : name;
        return s.isBlank() ? "out" : s;
    }

    private static String suggestion(FileKind kind, String stem) {
        return kind.endings().isEmpty() ? stem + "-results.jsonl" : stem + "-new" + kind.endings().get(0);
    }
}
