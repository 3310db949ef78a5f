package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.ArraySource;
import woodflow.data.BadImagePolicy;
import woodflow.data.DataException;
import woodflow.data.FolderSource;
import woodflow.data.ImageDecoder;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.ClassChoice;
import woodflow.train.Checkpoint;
import woodflow.train.Evaluator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow score}: the bits per dimension of every image in a folder (likelihood scoring). */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Write the bits per dimension of each image in a folder to a CSV (higher = less likely under "
                + "the model: a way to spot unusual images).",
                "Example: woodflow score --checkpoint runs/fm --images photos/ --out scores.csv"})
public final class ScoreCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    CheckpointOption checkpoint;

    @Option(names = "--images", required = true, description = "Folder of PNG/JPEG/WebP images (centre-cropped and "
            + "resized to the model's size).")
    Path images;

    @Option(names = "--out", defaultValue = "scores.csv", description = "CSV to write (default scores.csv).")
    Path out;

    @Mixin
    WeightsOption weights;

    @Option(names = "--class", description = "A class-conditional model: score every image given this class. "
            + "Without it, such a model scores p(x) averaged over its classes (a uniform prior) and names each "
            + "image's most likely class.")
    String className;

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (default) or fail on an "
            + "undecodable image.")
    BadImagePolicy onBadImage;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (!Files.isDirectory(images)) throw new IllegalArgumentException("--images " + images + " is not a folder");
        Path file = checkpoint.resolve();
        Checkpoint c = Checkpoint.read(file);
        var m = c.config().model();
        List<String> classes = m.classConditional() ? m.classes() : List.of();
        Integer label = className == null ? null : ClassChoice.resolve(classes, className, "checkpoint " + file);
        MultiScaleFlow model = c.model(common.device, weights.orDefault());
        // decode file by file, so each score belongs to its own file and a bad file is named
        List<Path> files = new ArrayList<>(), skipped = new ArrayList<>();
        List<byte[]> pixels = new ArrayList<>();
        for (Path f : FolderSource.list(images)) {
            try {
                pixels.add(ImageDecoder.toChw(Files.readAllBytes(f), f.toString(), m.channels(), m.height()));
                files.add(f);
            } catch (DataException | java.io.IOException e) {
                if (onBadImage == BadImagePolicy.FAIL) throw new DataException(Main.reason(e));
                skipped.add(f);
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("no decodable images found in " + images);
        ArraySource src = new ArraySource(pixels, m.channels(), m.height(), m.width(), images.toString());
        int nBits = c.config().data().nBits();
        long seed = c.config().train().evalSeed();
        double[] bpd;
        String[] likely = null;
        if (classes.isEmpty() || label != null) {
            int y = label == null ? 0 : label;
            ArraySource scored = label == null ? src
                    : src.withLabels(woodflow.data.ClassLabels.of(classes, i -> y));
            bpd = Evaluator.bitsPerDim(model, scored, scored.size(), nBits, 32, seed);
        } else {
            // no class given: the marginal over the classes, and the class under which each image is likeliest
            double[][] byClass = Evaluator.bitsPerDimByClass(model, src, src.size(), nBits, 32, seed);
            bpd = new double[byClass.length];
            likely = new String[byClass.length];
            for (int i = 0; i < byClass.length; i++) {
                bpd[i] = Evaluator.marginalBitsPerDim(byClass[i], m.dimensions());
                int best = 0;
                for (int k = 1; k < byClass[i].length; k++) if (byClass[i][k] < byClass[i][best]) best = k;
                likely[i] = classes.get(best);
            }
        }
        List<Integer> order = new ArrayList<>();
        List<List<?>> rows = new ArrayList<>();
        for (int i = 0; i < bpd.length; i++) {
            order.add(i);
            String b = String.format(Locale.ROOT, "%.5f", bpd[i]);
            rows.add(likely == null ? List.of(files.get(i).toString(), b) : List.of(files.get(i).toString(), b,
                    likely[i]));
        }
        woodflow.io.AtomicFiles.writeString(out, woodflow.io.Csv.write(likely == null ? List.of("file", "bpd")
                : List.of("file", "bpd", "likeliest_class"), rows));
        if (label != null) System.out.println("given class " + classes.get(label) + " for every image");
        if (likely != null) {
            System.out.println("class-conditional model: bpd of p(x) averaged over its " + classes.size() + " classes "
                    + "(a uniform prior); the CSV names each image's likeliest class");
        }
        order.sort(Comparator.comparingDouble(i -> -bpd[i]));
        double mean = 0;
        for (double b : bpd) mean += b / bpd.length;
        System.out.printf(Locale.ROOT, "scored %d images (mean bpd %.4f, weights %s) -> %s%n", bpd.length, mean,
                c.describeWeights(weights.orDefault()), out);
        if (!skipped.isEmpty()) System.out.println("skipped " + skipped.size() + " undecodable images: " + skipped);
        System.out.println("least likely:");
        for (int k = 0; k < Math.min(5, order.size()); k++) {
            System.out.printf(Locale.ROOT, "  %.4f  %s%n", bpd[order.get(k)], files.get(order.get(k)));
        }
        return 0;
    }
}
