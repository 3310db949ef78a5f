package woodflow.data;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only memory map of a byte range of a file of any length, as chunks of at most 1 GiB (one Java buffer cannot
 * exceed 2 GiB). Reads use absolute positions, so several threads may read at once; the operating system pages the
 * data in and out, so the range may be larger than memory.
 */
final class MappedBytes {
    private static final long CHUNK = 1L << 30;

    private final MappedByteBuffer[] chunks;
    private final long length;

    MappedBytes(Path file, long offset, long length) {
        this.length = length;
        int n = (int) ((length + CHUNK - 1) / CHUNK);
        chunks = new MappedByteBuffer[n];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() < offset + length) {
                throw new DataException(file + ": truncated, " + ch.size() + " bytes but " + (offset + length)
                        + " expected");
            }
            for (int i = 0; i < n; i++) {
                long start = i * CHUNK;
                chunks[i] = ch.map(FileChannel.MapMode.READ_ONLY, offset + start, Math.min(CHUNK, length - start));
            }
        } catch (IOException e) {
            throw new DataException(file + ": cannot map (" + e.getMessage() + ")", e);
        }
    }

    long length() {
        return length;
    }

    /** Copies {@code len} bytes from {@code pos} into {@code dst[off..]}, across chunk borders if needed. */
    void get(long pos, byte[] dst, int off, int len) {
        while (len > 0) {
            int c = (int) (pos / CHUNK);
            int within = (int) (pos % CHUNK);
            int n = Math.min(len, chunks[c].capacity() - within);
            chunks[c].get(within, dst, off, n);
            pos += n;
            off += n;
            len -= n;
        }
    }
}
