package woodflow.train;

import woodflow.data.ArraySource;
import woodflow.data.BadImagePolicy;
import woodflow.data.DataException;
import woodflow.data.FolderSource;
import woodflow.data.ImageDecoder;
import woodflow.io.AtomicFiles;
import woodflow.io.Csv;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * {@code woodflow score}: the bits per dimension of every image in a folder under a checkpoint's model (higher = less
 * likely: a way to spot unusual images). Each file is decoded on its own (centre-cropped and resized to the model's
 * size), so each score belongs to its file and a bad file is named; the scores use the run's evaluation noise.
 *
 * @param files   the scored images, in the folder's order
 * @param bpd     their bits per dimension
 * @param skipped the files that could not be decoded (policy skip)
 */
public record ImageScores(List<Path> files, double[] bpd, List<Path> skipped) {
    /**
     * Scores the images of {@code folder} under the model of {@code c} on {@code device} and writes
     * {@code file,bpd} rows to {@code csv}. An undecodable image is skipped, or with {@link BadImagePolicy#FAIL} ends
     * the scoring with its error.
     */
    public static ImageScores score(Checkpoint c, Path folder, BadImagePolicy onBadImage, String device, Path csv)
            throws IOException {
        MultiScaleFlow model = c.model(device);
        ModelConfig m = c.config().model();
        List<Path> files = new ArrayList<>(), skipped = new ArrayList<>();
        List<byte[]> pixels = new ArrayList<>();
        for (Path f : FolderSource.list(folder)) {
            try {
                pixels.add(ImageDecoder.toChw(Files.readAllBytes(f), f.toString(), m.channels(), m.height()));
                files.add(f);
            } catch (DataException | IOException e) {
                if (onBadImage == BadImagePolicy.FAIL) throw e;
                skipped.add(f);
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no decodable images found in " + folder);
        ArraySource src = new ArraySource(pixels, m.channels(), m.height(), m.width(), folder.toString());
        double[] bpd = Evaluator.bitsPerDim(model, src, src.size(), c.config().data().nBits(), 32,
                c.config().train().evalSeed());
        List<List<?>> rows = new ArrayList<>();
        for (int i = 0; i < bpd.length; i++) {
            rows.add(List.of(files.get(i).toString(), String.format(Locale.ROOT, "%.5f", bpd[i])));
        }
        AtomicFiles.writeString(csv, Csv.write(List.of("file", "bpd"), rows));
        return new ImageScores(List.copyOf(files), bpd, List.copyOf(skipped));
    }

    public double mean() {
        double mean = 0;
        for (double b : bpd) mean += b / bpd.length;
        return mean;
    }

    /** The indices of the {@code n} least likely images (highest bpd first). */
    public List<Integer> leastLikely(int n) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < bpd.length; i++) order.add(i);
        order.sort(Comparator.comparingDouble(i -> -bpd[i]));
        return order.subList(0, Math.min(n, order.size()));
    }
}
