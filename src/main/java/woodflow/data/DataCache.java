package woodflow.data;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * A one-time cache of decoded images: {@link #write} decodes every image of a source once (on {@code workers}
 * threads) and stores the resized uint8 arrays in one file that {@link CachedSource} memory-maps, so later epochs and
 * runs skip JPEG/WebP decoding and resizing. The file is written beside its final name and renamed into place, so an
 * interrupted build never leaves a half-written cache.
 */
public final class DataCache {
    private static final Logger LOG = LoggerFactory.getLogger(DataCache.class);
    private static final int BLOCK = 256;

    private DataCache() {}

    /** A cache folder: only cache files (and the partial one of an interrupted build) in it. */
    public static final woodflow.io.OutputGuard.FolderKind FOLDER = woodflow.io.OutputGuard.FolderKind.holding(
            "a woodflow data cache folder", ".u8", ".u8.partial");

    /** The cache at {@code file} if it was made from this source (same description and shape), else a new one. */
    public static CachedSource openOrBuild(ImageSource source, Path file, int workers) {
        String key = source.describe();
        if (Files.exists(file)) {
            try {
                CachedSource.Header h = CachedSource.readHeader(file);
                if (h.key().equals(key) && h.count() == source.size() && h.channels() == source.channels()
                        && h.height() == source.height() && h.width() == source.width()) {
                    return new CachedSource(file, source.labels().orElse(null));
                }
                LOG.info("cache {} was made from [{}]; rebuilding for [{}]", file, h.key(), key);
            } catch (DataException e) {
                LOG.info("cache {} is unusable ({}); rebuilding", file, e.getMessage());
            }
        }
        write(source, file, workers, key);
        return new CachedSource(file, source.labels().orElse(null));
    }

    /** Decodes every image of {@code source} and writes them to {@code file}. */
    public static void write(ImageSource source, Path file, int workers, String key) {
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, workers));
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            try (DataOutputStream out = new DataOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20))) {
                byte[] k = key.getBytes(StandardCharsets.UTF_8);
                out.write(CachedSource.MAGIC);
                out.writeInt(source.channels());
                out.writeInt(source.height());
                out.writeInt(source.width());
                out.writeInt(source.size());
                out.writeInt(k.length);
                out.write(k);
                int header = 8 + 5 * 4 + k.length;
                out.write(new byte[CachedSource.align(header) - header]);
                long per = (long) source.channels() * source.height() * source.width();
                for (int start = 0; start < source.size(); start += BLOCK) {
                    int from = start;
                    int to = Math.min(source.size(), start + BLOCK);
                    List<byte[]> block = pool.submit(() -> IntStream.range(from, to).parallel()
                            .mapToObj(source::image).toList()).get();
                    for (byte[] im : block) {
                        if (im.length != per) {
                            throw new DataException(source.describe() + ": an image has " + im.length
                                    + " bytes, expected " + per);
                        }
                        out.write(im);
                    }
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (ExecutionException e) {
            deleteQuietly(tmp);
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new DataException(file + ": building the image cache failed (" + e.getCause() + ")", e.getCause());
        } catch (InterruptedException e) {
            deleteQuietly(tmp);
            Thread.currentThread().interrupt();
            throw new DataException(file + ": building the image cache was interrupted", e);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new DataException(file + ": cannot write the image cache (" + e.getMessage() + ")", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover .partial file is overwritten by the next build
        }
    }
}
