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
 * @param likeliestClass a class-conditional model scored without a class: each image's likeliest class (else null)
 */
public record ImageScores(List<Path> files, double[] bpd, List<Path> skipped, String[] likeliestClass) {
    private static final String FILE = "file", BPD = "bpd", CLASS = "likeliest_class";

    /**
     * What {@link #score} writes: a CSV that begins with its header line, {@code file,bpd} or (a class-conditional
     * model scored without a class) {@code file,bpd,likeliest_class} (the output rule replaces only such).
     */
    public static final woodflow.io.OutputGuard.FileKind CSV = either(
            woodflow.io.OutputGuard.FileKind.csv(FILE + "," + BPD),
            woodflow.io.OutputGuard.FileKind.csv(FILE + "," + BPD + "," + CLASS));

    private static woodflow.io.OutputGuard.FileKind either(woodflow.io.OutputGuard.FileKind a,
                                                           woodflow.io.OutputGuard.FileKind b) {
        return new woodflow.io.OutputGuard.FileKind("a CSV file that begins with the line " + FILE + "," + BPD
                + " or " + FILE + "," + BPD + "," + CLASS, a.endings(),
                head -> a.looksLike().test(head) || b.looksLike().test(head));
    }

    /**
     * Scores the images of {@code folder} under the model of {@code c} on {@code device} and writes
     * {@code file,bpd} rows to {@code csv}. An undecodable image is skipped, or with {@link BadImagePolicy#FAIL} ends
     * the scoring with its error.
     */
    public static ImageScores score(Checkpoint c, Path folder, BadImagePolicy onBadImage, String device, Path csv)
            throws IOException {
        return score(c, folder, onBadImage, device, csv, null, null);
    }

    /**
     * As above with the chosen weights (null: the checkpoint's default) and, for a class-conditional model, the class
     * every image is scored given ({@code label}); without one such a model scores p(x) averaged over its classes (a
     * uniform prior) and names each image's likeliest class (a third CSV column, {@code likeliest_class}).
     */
    public static ImageScores score(Checkpoint c, Path folder, BadImagePolicy onBadImage, String device, Path csv,
                                    Weights weights, Integer label) throws IOException {
        MultiScaleFlow model = c.model(device, weights);
        List<String> classes = model.classes();
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
        int nBits = c.config().data().nBits();
        long seed = c.config().train().evalSeed();
        double[] bpd;
        String[] likeliest = null;
        if (classes.isEmpty() || label != null) {
            int y = label == null ? 0 : label;
            ArraySource scored = label == null ? src : src.withLabels(woodflow.data.ClassLabels.of(classes, i -> y));
            bpd = Evaluator.bitsPerDim(model, scored, scored.size(), nBits, 32, seed);
        } else {
            // no class given: the marginal over the classes, and the class under which each image is likeliest
            double[][] byClass = Evaluator.bitsPerDimByClass(model, src, src.size(), nBits, 32, seed);
            bpd = new double[byClass.length];
            likeliest = new String[byClass.length];
            for (int i = 0; i < byClass.length; i++) {
                bpd[i] = Evaluator.marginalBitsPerDim(byClass[i], m.dimensions());
                int best = 0;
                for (int k = 1; k < byClass[i].length; k++) if (byClass[i][k] < byClass[i][best]) best = k;
                likeliest[i] = classes.get(best);
            }
        }
        List<List<?>> rows = new ArrayList<>();
        for (int i = 0; i < bpd.length; i++) {
            String b = String.format(Locale.ROOT, "%.5f", bpd[i]);
            rows.add(likeliest == null ? List.of(files.get(i).toString(), b)
                    : List.of(files.get(i).toString(), b, likeliest[i]));
        }
        AtomicFiles.writeString(csv, Csv.write(likeliest == null ? List.of(FILE, BPD) : List.of(FILE, BPD, CLASS),
                rows));
        return new ImageScores(List.copyOf(files), bpd, List.copyOf(skipped), likeliest);
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
