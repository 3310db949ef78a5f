package woodflow.data;

import woodflow.picture.ImageGrid;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a data set holds, for {@code woodflow data inspect}: its description, count and shape, the per-channel pixel
 * mean and standard deviation (0..255) over a sample of images spread evenly through the set, and a PNG grid of some
 * of those images.
 */
public final class DataInspect {
    private DataInspect() {}

    /**
     * @param sampled how many images the statistics were computed from
     * @param mean    per-channel pixel mean, 0..255
     * @param std     per-channel pixel standard deviation, 0..255
     */
    public record Report(String description, int count, int channels, int height, int width, int sampled,
                         double[] mean, double[] std) {
        public String format() {
            StringBuilder sb = new StringBuilder();
            sb.append(description).append('\n');
            sb.append(String.format(Locale.ROOT, "  images %d, shape %dx%dx%d%n", count, channels, height, width));
            sb.append(String.format(Locale.ROOT, "  pixel mean %s, std %s (over %d images)", values(mean), values(std),
                    sampled));
            return sb.toString();
        }

        private static String values(double[] v) {
            List<String> parts = new ArrayList<>();
            for (double x : v) parts.add(String.format(Locale.ROOT, "%.1f", x));
            return String.join(" / ", parts);
        }
    }

    /** {@code k} indices spread evenly over {@code 0..n-1}: the same every time, and across the whole set. */
    public static int[] spread(int n, int k) {
        int m = Math.min(n, k);
        int[] idx = new int[m];
        for (int i = 0; i < m; i++) idx[i] = (int) ((long) i * n / m);
        return idx;
    }

    /** Statistics over up to {@code sample} images. */
    public static Report inspect(ImageSource src, int sample) {
        int c = src.channels();
        int plane = src.height() * src.width();
        double[] sum = new double[c];
        double[] sumSq = new double[c];
        int[] idx = spread(src.size(), sample);
        for (int i : idx) {
            byte[] im = src.image(i);
            for (int ch = 0; ch < c; ch++) {
                long s = 0;
                long sq = 0;
                for (int p = ch * plane; p < (ch + 1) * plane; p++) {
                    int v = im[p] & 255;
                    s += v;
                    sq += (long) v * v;
                }
                sum[ch] += s;
                sumSq[ch] += sq;
            }
        }
        double[] mean = new double[c];
        double[] std = new double[c];
        double count = (double) idx.length * plane;
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = idx.length == 0 ? 0 : sum[ch] / count;
            std[ch] = idx.length == 0 ? 0 : Math.sqrt(Math.max(0, sumSq[ch] / count - mean[ch] * mean[ch]));
        }
        return new Report(src.describe(), src.size(), c, src.height(), src.width(), idx.length, mean, std);
    }

    /** Writes a grid of {@code count} images spread over the set, 8 per row. */
    public static void grid(ImageSource src, int count, Path png) {
        List<byte[]> images = new ArrayList<>();
        for (int i : spread(src.size(), count)) images.add(src.image(i));
        try {
            ImageGrid.writeLabelled(images, src.channels(), src.height(), src.width(), 8, new ImageGrid.Labels(
                    images.size() + " of " + src.size() + " images, spread evenly", List.of(), List.of()), png);
        } catch (java.io.IOException e) {
            throw new DataException(e.getMessage(), e);
        }
    }

    /**
     * Opens the data set of {@code cfg} at its natural shape, prints both splits, writes a grid of 64 training
     * images to {@code gridPng} and, for a seeded hold-out, the list of held-out names beside it
     * ({@code holdout.txt}).
     */
    public static List<Report> run(DataConfig cfg, int sample, Path gridPng, PrintStream out) {
        try (Splits splits = DataSets.open(cfg)) {
            Path list = gridPng == null ? null : gridPng.resolveSibling("holdout.txt");
            // checked before the statistics, which take a while: the command writes nothing when it refuses
            if (list != null && !splits.holdout().isEmpty()) checkHoldoutList(list, gridPng, cfg);
            Report train = inspect(splits.train(), sample);
            Report test = inspect(splits.test(), sample);
            out.println("train: " + train.format());
            out.println("test:  " + test.format());
            if (gridPng != null) {
                grid(splits.train(), 64, gridPng);
                out.println("grid:  " + gridPng);
                if (!splits.holdout().isEmpty()) {
                    splits.writeHoldout(list);
                    out.println("hold-out list: " + list + " (" + splits.holdout().size() + " names)");
                }
            }
            return List.of(train, test);
        }
    }

    /**
     * The hold-out list goes beside the grid, under a name the user did not choose: never over a file of another kind
     * (it may be the user's own holdout.txt), not even with --force, so the fix is another folder for --out.
     */
    private static void checkHoldoutList(Path list, Path gridPng, DataConfig cfg) {
        try {
            woodflow.io.OutputGuard.file("--out", list, HoldoutSplit.LIST, false,
                    woodflow.io.OutputGuard.Input.of("data.path", cfg.path()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--out " + gridPng + ": this command writes the hold-out list beside "
                    + "it, as " + list + ", but that exists and is not a hold-out list (image file names, one a line), "
                    + "so it is not replaced: choose an --out in another folder, or move " + list + " away", e);
        }
    }
}
