package woodflow.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * A folder of encoded images (PNG, JPEG, WebP) of any sizes, decoded on demand: each image is centre-cropped to a
 * square and resized to {@code size x size} in grey or RGB by {@link ImageDecoder}. Nothing is held in memory but the
 * file list, so folders larger than memory stream from disk.
 *
 * <p>Bad images follow {@code on_bad_image}: at opening every file's header is read, and a file no reader accepts is
 * either fatal ({@code fail}) or left out and counted ({@code skip}). A file whose header is fine but whose body does
 * not decode is found only when it is read: {@code fail} raises the error then, {@code skip} counts it and delivers
 * the next decodable image in its place, so positions stay stable for the batch streamer.
 */
public final class FolderSource implements ImageSource {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".webp");

    private final String label;
    private final List<Path> files;
    private final int channels;
    private final int size;
    private final boolean skipBad;
    private final List<Path> skippedAtOpen;
    private final Set<Path> failedLater = ConcurrentHashMap.newKeySet();
    /** The folder whose sub-folders are the classes, or null (no labels). */
    private final Path classRoot;
    private final List<String> classNames;
    private volatile int[] classOf;

    public FolderSource(String label, List<Path> files, int channels, int size, BadImagePolicy onBadImage) {
        this(label, files, channels, size, onBadImage, null, List.of());
    }

    /**
     * @param files      image files in a fixed order (see {@link #list})
     * @param onBadImage what to do with a file that does not decode
     * @param classRoot  the folder whose sub-folders are the classes (one class per sub-folder), or null
     * @param classNames the class names (the sub-folders' names), in label order; empty: no labels
     */
    public FolderSource(String label, List<Path> files, int channels, int size, BadImagePolicy onBadImage,
                        Path classRoot, List<String> classNames) {
        this.label = label;
        this.classRoot = classRoot;
        this.classNames = List.copyOf(classNames);
        this.channels = channels;
        this.size = size;
        this.skipBad = onBadImage == BadImagePolicy.SKIP;
        if (channels != 1 && channels != 3) {
            throw new DataException(label + ": image folders give 1 (grey) or 3 (RGB) channels, not " + channels);
        }
        if (size <= 0) throw new DataException(label + ": image size must be positive, got " + size);
        DataException[] errors = new DataException[files.size()];
        // Header probes are independent file reads: run them in parallel, record failures, decide afterwards in order.
        IntStream.range(0, files.size()).parallel().forEach(i -> {
            try {
                ImageDecoder.probe(files.get(i));
            } catch (DataException e) {
                errors[i] = e;
            }
        });
        List<Path> good = new ArrayList<>();
        List<Path> skipped = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            DataException e = errors[i];
            if (e == null) {
                good.add(files.get(i));
            } else if (skipBad) {
                skipped.add(files.get(i));
            } else {
                throw new DataException(e.getMessage() + " (set data.on_bad_image to \"skip\" to leave such files out)", e);
            }
        }
        this.files = List.copyOf(good);
        this.skippedAtOpen = List.copyOf(skipped);
    }

    /** Image files under {@code dir} (recursively), sorted by their path relative to {@code dir}. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new DataException(dir + ": " + (Files.exists(dir) ? "not a directory" : "directory not found"));
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> out = new ArrayList<>(walk.filter(Files::isRegularFile).filter(FolderSource::isImageName).toList());
            // Sort by relative path with '/' separators: the same order on every machine and file system.
            out.sort((a, b) -> relative(dir, a).compareTo(relative(dir, b)));
            return out;
        } catch (IOException | UncheckedIOException e) {
            throw new DataException(dir + ": cannot list directory (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The classes of an image folder: the names of its sub-folders that hold images (anywhere below them), sorted;
     * empty when every image lies directly in {@code dir}.
     */
    public static List<String> classesOf(Path dir, List<Path> files) {
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        for (Path f : files) {
            Path rel = dir.relativize(f);
            if (rel.getNameCount() > 1) names.add(rel.getName(0).toString());
        }
        return List.copyOf(names);
    }

    /**
     * Each image's class, the sub-folder of the class folder it lies in, when the folder has class sub-folders. An
     * image directly in the class folder, or in a sub-folder that is not one of the classes (a test image of a class
     * the training folder lacks), is an error naming it.
     */
    @Override
    public java.util.Optional<ClassLabels> labels() {
        if (classRoot == null || classNames.isEmpty()) return java.util.Optional.empty();
        return java.util.Optional.of(ClassLabels.of(classNames, i -> {
            int c = classes()[i];
            if (c >= 0) return c;
            Path rel = classRoot.relativize(files.get(i));
            throw new DataException(rel.getNameCount() < 2 ? files.get(i) + " lies directly in " + classRoot + ", not "
                    + "in a class sub-folder: with labels, every image must be in the sub-folder of its class ("
                    + String.join(", ", classNames) + "); move it or remove it"
                    : files.get(i) + " is in sub-folder " + rel.getName(0) + ", which is not one of the classes of "
                    + "the training images (" + String.join(", ", classNames) + ")");
        }));
    }

    /** The class of every file (its sub-folder's position in the class names), -1 where it has none. */
    private int[] classes() {
        int[] c = classOf;
        if (c != null) return c;
        c = new int[files.size()];
        for (int i = 0; i < c.length; i++) {
            Path rel = classRoot.relativize(files.get(i));
            c[i] = rel.getNameCount() < 2 ? -1 : classNames.indexOf(rel.getName(0).toString());
        }
        classOf = c;
        return c;
    }

    static String relative(Path dir, Path file) {
        return dir.relativize(file).toString().replace('\\', '/');
    }

    static boolean isImageName(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".") && EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return size;
    }

    @Override
    public int width() {
        return size;
    }

    @Override
    public byte[] image(int index) {
        if (index < 0 || index >= files.size()) throw new IndexOutOfBoundsException(index + " of " + files.size());
        DataException first = null;
        int[] classes = skipBad && classRoot != null && !classNames.isEmpty() ? classes() : null;
        for (int k = 0; k < files.size(); k++) {
            int at = (index + k) % files.size();
            // a skipped image's place goes to the next decodable one of the same class, so its label stays true
            if (classes != null && classes[index] >= 0 && classes[at] != classes[index]) continue;
            Path file = files.get(at);
            try {
                return ImageDecoder.toChw(read(file), file.toString(), channels, size);
            } catch (DataException e) {
                if (!skipBad) throw new DataException(e.getMessage() + " (set data.on_bad_image to \"skip\" to leave"
                        + " such files out)", e);
                failedLater.add(file);
                if (first == null) first = e;
            }
        }
        throw new DataException(label + ": no image in the folder decodes; first error: " + first.getMessage(), first);
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": image file disappeared after the folder was listed");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Files left out: those whose header no reader accepted, then those whose body failed to decode so far. */
    public List<Path> skipped() {
        List<Path> all = new ArrayList<>(skippedAtOpen);
        List<Path> later = new ArrayList<>(failedLater);
        Collections.sort(later);
        all.addAll(later);
        return all;
    }

    /** The files in index order. */
    public List<Path> files() {
        return files;
    }

    @Override
    public String describe() {
        int bad = skippedAtOpen.size() + failedLater.size();
        return "folder " + label + ": " + files.size() + " images resized to " + channels + "x" + size + "x" + size
                + (bad > 0 ? ", " + bad + " undecodable skipped" : "");
    }
}
