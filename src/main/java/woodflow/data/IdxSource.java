package woodflow.data;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
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
        byte[] raw = readMaybeGzipped(file);
        if (raw.length < 4) throw new DataException(file + ": truncated IDX file, " + raw.length + " bytes (no header)");
        int magic = ((raw[0] & 255) << 24) | ((raw[1] & 255) << 16) | ((raw[2] & 255) << 8) | (raw[3] & 255);
        if (magic != 0x00000803) {
            throw new DataException(String.format("%s: wrong IDX magic number 0x%08X, expected 0x00000803 (unsigned"
                    + " bytes, 3 dimensions: an image file, not a label file)", file, magic));
        }
        if (raw.length < 16) throw new DataException(file + ": truncated IDX header, " + raw.length + " of 16 bytes");
        count = readInt(raw, 4);
        rows = readInt(raw, 8);
        cols = readInt(raw, 12);
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new DataException(file + ": IDX header gives impossible sizes " + count + " x " + rows + " x " + cols);
        }
        long expected = 16L + (long) count * rows * cols;
        if (raw.length != expected) {
            throw new DataException(file + ": " + (raw.length < expected ? "truncated" : "too long") + ", "
                    + raw.length + " bytes but the header (" + count + " images of " + rows + "x" + cols
                    + ") needs " + expected);
        }
        if (rows != cols) throw new DataException(file + ": images are " + rows + "x" + cols + ", not square");
        if (size < rows || (size - rows) % 2 != 0) {
            throw new DataException(file + ": cannot pad " + rows + "x" + cols + " images to " + size + "x" + size
                    + " (zero padding needs a size >= " + rows + " with an even difference; set data.size, e.g. 32)");
        }
        this.pixels = raw;
        this.size = size;
        this.pad = (size - rows) / 2;
    }

    static byte[] readMaybeGzipped(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": file not found");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (raw.length < 2 || (raw[0] & 255) != 0x1f || (raw[1] & 255) != 0x8b) return raw;
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw), 1 << 16)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
            in.transferTo(out);
            return out.toByteArray();
        } catch (EOFException e) {
            throw new DataException(file + ": truncated gzip stream (the download was cut short)", e);
        } catch (ZipException e) {
            throw new DataException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new DataException(file + ": cannot decompress (" + e.getMessage() + ")", e);
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
