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

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (default) or fail on an "
            + "undecodable image.")
    BadImagePolicy onBadImage;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (!Files.isDirectory(images)) throw new IllegalArgumentException("--images " + images + " is not a folder");
        Checkpoint c = Checkpoint.read(checkpoint.resolve());
        MultiScaleFlow model = c.model(common.device, weights.orDefault());
        var m = c.config().model();
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
        double[] bpd = Evaluator.bitsPerDim(model, src, src.size(), c.config().data().nBits(), 32,
                c.config().train().evalSeed());
        List<Integer> order = new ArrayList<>();
        List<List<?>> rows = new ArrayList<>();
        for (int i = 0; i < bpd.length; i++) {
            order.add(i);
            rows.add(List.of(files.get(i).toString(), String.format(Locale.ROOT, "%.5f", bpd[i])));
        }
        woodflow.io.AtomicFiles.writeString(out, woodflow.io.Csv.write(List.of("file", "bpd"), rows));
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
