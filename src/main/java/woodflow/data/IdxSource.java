package woodflow.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Grey images from an IDX file (MNIST, Fashion-MNIST), plain or gzipped (recognised by the gzip magic bytes, not the
 * file name). The header is the magic {@code 00 00 08 03} (unsigned bytes, 3 dimensions) and the big-endian sizes
 * {@code N, H, W}; then N*H*W pixels. Images are zero-padded equally on every side to {@code size x size}
 * (28 -> 32 adds 2 pixels each side), so the model's side is divisible by 2^L.
 */
public final class IdxSource implements ImageSource {
    private final Path file;
    private final byte[] pixels;
    private final int total;
    private final int count;
    private final int rows;
    private final int cols;
    private final int size;
    private final int pad;
    private final Path labelFile;
    private final List<String> classNames;
    private volatile ClassLabels labels;

    public IdxSource(Path file, int size) {
        this(file, size, null);
    }

    public IdxSource(Path file, int size, Integer limit) {
        this(file, size, limit, null, null);
    }

    /**
     * The file's first {@code limit} images (all of them when null or above the count): only those are kept in memory,
     * while the rest of the file is read through, so its length is checked against the header all the same.
     */
    /**
     * As above, with the IDX label file of the same images ({@code train-labels-idx1-ubyte} beside
     * {@code train-images-idx3-ubyte}), read only when the labels are asked for; {@code classNames} names the labels
     * (null: "0", "1", ... up to the largest label).
     */
    public IdxSource(Path file, int size, Integer limit, Path labelFile, List<String> classNames) {
        this.labelFile = labelFile;
        this.classNames = classNames == null ? null : List.copyOf(classNames);
        if (limit != null && limit < 0) throw new DataException("an image limit must not be negative, got " + limit);
        this.file = file;
        Pixels p = read(file, limit);
        total = p.total;
        count = p.kept;
        rows = p.rows;
        cols = p.cols;
        if (rows != cols) throw new DataException(file + ": images are " + rows + "x" + cols + ", not square");
        if (size < rows || (size - rows) % 2 != 0) {
            throw new DataException(file + ": cannot pad " + rows + "x" + cols + " images to " + size + "x" + size
                    + " (zero padding needs a size >= " + rows + " with an even difference; set data.size, e.g. 32)");
        }
        this.pixels = p.bytes;
        this.size = size;
        this.pad = (size - rows) / 2;
    }

    private record Pixels(byte[] bytes, int total, int kept, int rows, int cols) {}

    /**
     * The kept images' pixels, decompressed straight into one array of the size the header gives: no copy of the
     * compressed bytes and no growing buffer (reading, inflating into a doubling buffer and copying out took ~250 MB
     * for Fashion-MNIST's 47 MB, resident for the rest of a run), and nothing of the images past the limit.
     */
    private static Pixels read(Path file, Integer limit) {
        try (InputStream in = open(file)) {
            byte[] header = in.readNBytes(16);
            if (header.length < 4) {
                throw new DataException(file + ": truncated IDX file, " + header.length + " bytes (no header)");
            }
            int magic = readInt(header, 0);
            if (magic != 0x00000803) {
                throw new DataException(String.format("%s: wrong IDX magic number 0x%08X, expected 0x00000803 (unsigned"
                        + " bytes, 3 dimensions: an image file, not a label file)", file, magic));
            }
            if (header.length < 16) {
                throw new DataException(file + ": truncated IDX header, " + header.length + " of 16 bytes");
            }
            int n = readInt(header, 4);
            int h = readInt(header, 8);
            int w = readInt(header, 12);
            if (n < 0 || h <= 0 || w <= 0) {
                throw new DataException(file + ": IDX header gives impossible sizes " + n + " x " + h + " x " + w);
            }
            int kept = limit == null ? n : Math.min(n, limit);
            long expected = 16L + (long) n * h * w, keptBytes = (long) kept * h * w;
            if (keptBytes > Integer.MAX_VALUE - 8) {
                throw new DataException(file + ": " + kept + " images of " + h + "x" + w + " do not fit in one array"
                        + " (at most 2 GB of pixels); split the file or set a data limit");
            }
            byte[] bytes = new byte[(int) keptBytes];
            long got = 16 + in.readNBytes(bytes, 0, bytes.length);
            got += in.transferTo(OutputStream.nullOutputStream()); // the rest: read, checked, not kept
            if (got != expected) {
                throw new DataException(file + ": " + (got < expected ? "truncated" : "too long") + ", " + got
                        + " bytes but the header (" + n + " images of " + h + "x" + w + ") needs " + expected);
            }
            return new Pixels(bytes, n, kept, h, w);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": file not found");
        } catch (EOFException e) {
            throw new DataException(file + ": truncated gzip stream (the download was cut short)", e);
        } catch (ZipException e) {
            throw new DataException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Bytes of pixels this source holds in memory. */
    long heldBytes() {
        return pixels.length;
    }

    /** The file's bytes, inflated when it starts with the gzip magic bytes (whatever its name). */
    private static InputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
        in.reset();
        if (!gzip) return in;
        try {
            return new GZIPInputStream(in, 1 << 16);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 255) << 24) | ((b[off + 1] & 255) << 16) | ((b[off + 2] & 255) << 8) | (b[off + 3] & 255);
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return 1;
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
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(index + " of " + count);
        byte[] out = new byte[size * size];
        int src = index * rows * cols;
        for (int y = 0; y < rows; y++) System.arraycopy(pixels, src + y * cols, out, (y + pad) * size + pad, cols);
        return out;
    }

    /**
     * The labels of the label file beside the images, when there is one: header {@code 00 00 08 01} (unsigned bytes,
     * one dimension) and the count, which must be the image file's, then one byte per image.
     */
    @Override
    public Optional<ClassLabels> labels() {
        if (labelFile == null || !Files.exists(labelFile)) return Optional.empty();
        // read when first used: a model without labels never reads (or fails on) the label file
        return Optional.of(new ClassLabels() {
            @Override
            public List<String> names() {
                return read().names();
            }

            @Override
            public int label(int index) {
                return read().label(index);
            }
        });
    }

    private synchronized ClassLabels read() {
        if (labels == null) {
            byte[] bytes = readLabels(labelFile, total, count);
            int max = 0;
            for (byte b : bytes) max = Math.max(max, b & 255);
            List<String> names = classNames != null ? classNames : ClassLabels.numbered(max + 1);
            if (max >= names.size()) {
                throw new DataException(labelFile + ": label " + max + " is out of range: " + names.size()
                        + " classes are named for this data set (" + String.join(", ", names) + ")");
            }
            labels = ClassLabels.of(names, i -> bytes[i] & 255);
        }
        return labels;
    }

    /** The first {@code kept} labels of an IDX label file that must hold {@code expected} of them. */
    static byte[] readLabels(Path file, int expected, int kept) {
        try (InputStream in = open(file)) {
            byte[] header = in.readNBytes(8);
            if (header.length < 8) {
                throw new DataException(file + ": truncated IDX label file, " + header.length + " bytes (no header)");
            }
            int magic = readInt(header, 0);
            if (magic != 0x00000801) {
                throw new DataException(String.format("%s: wrong IDX magic number 0x%08X for a label file, expected "
                        + "0x00000801 (unsigned bytes, 1 dimension)", file, magic));
            }
            int n = readInt(header, 4);
            if (n != expected) {
                throw new DataException(file + ": holds " + n + " labels but its image file holds " + expected
                        + " images; the label file must belong to the images beside it");
            }
            byte[] out = in.readNBytes(kept);
            long rest = in.transferTo(OutputStream.nullOutputStream());
            if (out.length + rest != n) {
                throw new DataException(file + ": truncated, " + (out.length + rest) + " labels but the header says "
                        + n);
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": file not found");
        } catch (EOFException e) {
            throw new DataException(file + ": truncated gzip stream (the download was cut short)", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String describe() {
        return "idx " + file + ": " + (count < total ? "first " + count + " of " + total : count) + " images, 1x"
                + rows + "x" + cols
                + (pad > 0 ? " zero-padded to 1x" + size + "x" + size : "");
    }
}
