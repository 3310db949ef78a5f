package woodflow.bench;

import woodflow.data.BadImagePolicy;
import woodflow.data.BatchStream;
import woodflow.data.DataException;
import woodflow.data.EmbeddedSource;
import woodflow.data.FolderSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loader throughput: images per second delivered by {@link BatchStream} from a folder of JPEGs, each decoded,
 * centre-cropped and resized to 64x64 RGB. The folder is generated (embedded-shape images saved as 96x96 JPEGs) in a
 * temporary directory and removed afterwards. Two warm-up batches are not timed.
 */
public final class LoaderBenchmark {
    private LoaderBenchmark() {}

    /** @return images per second; {@code files} JPEGs of {@code side} pixels, {@code batches} batches timed */
    public static double run(int files, int side, int batchSize, int workers, int batches) {
        Path dir;
        try {
            dir = Files.createTempDirectory("woodflow-loader-bench");
        } catch (IOException e) {
            throw new DataException("cannot create a temporary directory for the loader benchmark ("
                    + e.getMessage() + ")", e);
        }
        try {
            writeJpegs(dir, files, side);
            return run(dir, batchSize, workers, batches);
        } finally {
            woodflow.io.AtomicFiles.deleteTreeQuietly(dir);
        }
    }

    /** Throughput over an existing folder of images, resized to 64x64 RGB. */
    public static double run(Path dir, int batchSize, int workers, int batches) {
        FolderSource source = new FolderSource(dir.toString(), FolderSource.list(dir), 3, 64, BadImagePolicy.FAIL);
        try (BatchStream stream = BatchStream.shuffled(source, batchSize, 1, 0, workers, 2 * Math.max(1, workers))) {
            for (int i = 0; i < 2; i++) stream.next();
            long t0 = System.nanoTime();
            long images = 0;
            for (int i = 0; i < batches; i++) images += stream.next().size();
            return images / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Writes {@code n} JPEGs of {@code side x side} pixels drawn by {@link EmbeddedSource}. */
    public static void writeJpegs(Path dir, int n, int side) {
        EmbeddedSource shapes = new EmbeddedSource(n, 3, side, 7, 0);
        int plane = side * side;
        for (int k = 0; k < n; k++) {
            byte[] im = shapes.image(k);
            BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_3BYTE_BGR);
            int[] rgb = new int[3 * plane];
            for (int i = 0; i < plane; i++) for (int b = 0; b < 3; b++) rgb[3 * i + b] = im[b * plane + i] & 255;
            img.getRaster().setPixels(0, 0, side, side, rgb);
            try {
                ImageIO.write(img, "jpg", dir.resolve(String.format("img%05d.jpg", k)).toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
