package woodflow.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Decoded images read back from a cache file written by {@link DataCache}: memory-mapped, so later epochs and later
 * runs skip decoding and the operating system keeps the hot part in its page cache. File layout (big-endian):
 * <pre>
 *   "WFCACHE1"  int channels, height, width, count  int keyLength  key (UTF-8)  zero padding to a multiple of 64
 *   count * channels * height * width bytes, image after image, each in CHW order
 * </pre>
 * The key is the {@link ImageSource#describe()} of the source the cache was made from; a cache whose key differs
 * from the current source is stale and is rebuilt.
 */
public final class CachedSource implements ImageSource {
    static final byte[] MAGIC = "WFCACHE1".getBytes(StandardCharsets.US_ASCII);

    private final Path file;
    private final Header header;
    private final MappedBytes data;
    private final ClassLabels labels;

    record Header(int channels, int height, int width, int count, String key, int dataOffset) {
        long imageBytes() {
            return (long) channels * height * width;
        }
    }

    public CachedSource(Path file) {
        this(file, null);
    }

    /**
     * The cache at {@code file} with the labels of the source it was made from ({@code labels}, null for none): the
     * cache holds pixels only; labels are small and come from the data set's own files (read when first used).
     */
    public CachedSource(Path file, ClassLabels labels) {
        this.labels = labels;
        this.file = file;
        this.header = readHeader(file);
        this.data = new MappedBytes(file, header.dataOffset(), header.count() * header.imageBytes());
    }

    static Header readHeader(Path file) {
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(raw)) {
            byte[] magic = new byte[8];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) throw new DataException(file + ": not a woodflow image cache (wrong magic)");
            int c = in.readInt();
            int h = in.readInt();
            int w = in.readInt();
            int n = in.readInt();
            int keyLength = in.readInt();
            if (c <= 0 || h <= 0 || w <= 0 || n < 0 || keyLength < 0 || keyLength > (1 << 20)) {
                throw new DataException(file + ": corrupt image cache header");
            }
            byte[] key = new byte[keyLength];
            in.readFully(key);
            int offset = align(8 + 5 * 4 + keyLength);
            long expected = offset + (long) n * c * h * w;
            if (Files.size(file) != expected) {
                throw new DataException(file + ": truncated image cache, " + Files.size(file) + " bytes but " + expected
                        + " expected; delete it to rebuild");
            }
            return new Header(c, h, w, n, new String(key, StandardCharsets.UTF_8), offset);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": image cache not found");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read image cache (" + e.getMessage() + ")", e);
        }
    }

    static int align(int n) {
        return (n + 63) / 64 * 64;
    }

    /** The description of the source the cache was made from. */
    public String key() {
        return header.key();
    }

    @Override
    public int size() {
        return header.count();
    }

    @Override
    public int channels() {
        return header.channels();
    }

    @Override
    public int height() {
        return header.height();
    }

    @Override
    public int width() {
        return header.width();
    }

    @Override
    public byte[] image(int index) {
        if (index < 0 || index >= header.count()) throw new IndexOutOfBoundsException(index + " of " + header.count());
        int per = (int) header.imageBytes();
        byte[] out = new byte[per];
        data.get((long) index * per, out, 0, per);
        return out;
    }

    @Override
    public java.util.Optional<ClassLabels> labels() {
        return java.util.Optional.ofNullable(labels);
    }

    @Override
    public String describe() {
        return "cache " + file + " of [" + header.key() + "]: " + header.count() + " images, " + header.channels() + "x"
                + header.height() + "x" + header.width();
    }
}
