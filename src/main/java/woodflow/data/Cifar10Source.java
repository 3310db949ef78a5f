package woodflow.data;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * CIFAR-10 in its binary form: each batch file is a sequence of 3,073-byte records, a label byte then 3,072 pixels
 * (the 1,024 red, then green, then blue values of a 32x32 image, row-major), which is already CHW order. The files
 * are memory-mapped, so the 180 MB of the training set are paged in on demand. Training uses
 * {@code data_batch_1..5}, testing {@code test_batch} (with or without the {@code .bin} suffix).
 */
public final class Cifar10Source implements ImageSource {
    public static final int RECORD = 1 + 3 * 32 * 32;
    private static final int PIXELS = 3 * 32 * 32;

    private final List<Path> files;
    private final MappedByteBuffer[] maps;
    private final int[] firstIndex;
    private final int count;

    public Cifar10Source(List<Path> files) {
        this.files = List.copyOf(files);
        maps = new MappedByteBuffer[files.size()];
        firstIndex = new int[files.size() + 1];
        for (int f = 0; f < files.size(); f++) {
            Path file = files.get(f);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long length = ch.size();
                if (length % RECORD != 0) {
                    throw new DataException(file + ": length " + length + " is not a multiple of " + RECORD
                            + " (1 label byte + 3072 pixel bytes per record): the file is truncated or not a CIFAR-10"
                            + " binary batch");
                }
                if (length == 0) throw new DataException(file + ": empty CIFAR-10 batch file (0 bytes)");
                maps[f] = ch.map(FileChannel.MapMode.READ_ONLY, 0, length);
                firstIndex[f + 1] = firstIndex[f] + (int) (length / RECORD);
            } catch (NoSuchFileException e) {
                throw new DataException(file + ": CIFAR-10 batch file not found (expected data_batch_1..5 and"
                        + " test_batch, with or without .bin, in the data directory)");
            } catch (IOException e) {
                throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
            }
        }
        count = firstIndex[files.size()];
    }

    /** The batch file {@code name} or {@code name.bin} in {@code dir}, whichever exists (the first if neither). */
    static Path batch(Path dir, String name) {
        Path bin = dir.resolve(name + ".bin");
        Path plain = dir.resolve(name);
        return Files.exists(bin) || !Files.exists(plain) ? bin : plain;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return 32;
    }

    @Override
    public int width() {
        return 32;
    }

    @Override
    public byte[] image(int index) {
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(index + " of " + count);
        int f = 0;
        while (firstIndex[f + 1] <= index) f++;
        byte[] out = new byte[PIXELS];
        maps[f].get((index - firstIndex[f]) * RECORD + 1, out, 0, PIXELS); // absolute get: thread-safe
        return out;
    }

    /** CIFAR-10's classes, in label order, as its {@code batches.meta.txt} names them. */
    public static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
            "horse", "ship", "truck");

    /**
     * Each image's class, its record's first byte; named by {@code batches.meta.txt} beside the batches when it is
     * there (one name a line), else by {@link #CLASSES}.
     */
    @Override
    public java.util.Optional<ClassLabels> labels() {
        List<String> names = CLASSES;
        Path meta = files.get(0).resolveSibling("batches.meta.txt");
        if (Files.isRegularFile(meta)) {
            try {
                List<String> lines = Files.readAllLines(meta).stream().map(String::strip).filter(l -> !l.isEmpty())
                        .map(ClassLabels::clean).toList();
                if (!lines.isEmpty()) names = lines;
            } catch (IOException e) {
                throw new DataException(meta + ": cannot read the class names (" + e.getMessage() + ")", e);
            }
        }
        List<String> classNames = names;
        return java.util.Optional.of(ClassLabels.of(classNames, i -> {
            int f = 0;
            while (firstIndex[f + 1] <= i) f++;
            int label = maps[f].get((i - firstIndex[f]) * RECORD) & 255; // absolute get: thread-safe
            if (label >= classNames.size()) {
                throw new DataException(files.get(f) + ": record " + (i - firstIndex[f]) + " has label " + label
                        + ", but there are " + classNames.size() + " classes");
            }
            return label;
        }));
    }

    @Override
    public String describe() {
        Path dir = files.get(0).getParent();
        return "cifar10 " + dir + " (" + files.size() + " batch file" + (files.size() == 1 ? "" : "s") + "): " + count
                + " images, 3x32x32";
    }
}
