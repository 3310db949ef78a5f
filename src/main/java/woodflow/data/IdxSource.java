package woodflow.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
    private final int count;
    private final int rows;
    private final int cols;
    private final int size;
    private final int pad;

    public IdxSource(Path file, int size) {
        this.file = file;
        byte[] raw = read(file);
        count = readInt(raw, 4);
        rows = readInt(raw, 8);
        cols = readInt(raw, 12);
        if (rows != cols) throw new DataException(file + ": images are " + rows + "x" + cols + ", not square");
        if (size < rows || (size - rows) % 2 != 0) {
            throw new DataException(file + ": cannot pad " + rows + "x" + cols + " images to " + size + "x" + size
                    + " (zero padding needs a size >= " + rows + " with an even difference; set data.size, e.g. 32)");
        }
        this.pixels = raw;
        this.size = size;
        this.pad = (size - rows) / 2;
    }

    /**
     * The whole file (header and pixels), decompressed straight into one array of the size its header gives: no
     * copy of the compressed bytes and no growing buffer, so loading Fashion-MNIST (47 MB of pixels) takes 47 MB of
     * heap rather than the ~250 MB that reading, inflating into a doubling buffer and copying out took, which stayed
     * in the process's resident memory for the rest of a run.
     */
    private static byte[] read(Path file) {
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
            long expected = 16L + (long) n * h * w;
            if (expected > Integer.MAX_VALUE - 8) {
                throw new DataException(file + ": " + n + " images of " + h + "x" + w + " do not fit in one array"
                        + " (at most 2 GB of pixels); split the file");
            }
            byte[] raw = new byte[(int) expected];
            System.arraycopy(header, 0, raw, 0, 16);
            int got = 16 + in.readNBytes(raw, 16, raw.length - 16);
            long extra = got < expected ? 0 : in.transferTo(OutputStream.nullOutputStream());
            if (got < expected || extra > 0) {
                throw new DataException(file + ": " + (got < expected ? "truncated" : "too long") + ", "
                        + (got + extra) + " bytes but the header (" + n + " images of " + h + "x" + w
                        + ") needs " + expected);
            }
            return raw;
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
        int src = 16 + index * rows * cols;
        for (int y = 0; y < rows; y++) System.arraycopy(pixels, src + y * cols, out, (y + pad) * size + pad, cols);
        return out;
    }

    @Override
    public String describe() {
        return "idx " + file + ": " + count + " images, 1x" + rows + "x" + cols
                + (pad > 0 ? " zero-padded to 1x" + size + "x" + size : "");
    }
}
