package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.BadImagePolicy;
import woodflow.io.OutputGuard;
import woodflow.train.Checkpoint;
import woodflow.train.ImageScores;
import woodflow.sample.ClassChoice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    @Mixin
    ForceOption overwrite;

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (default) or fail on an "
            + "undecodable image.")
    BadImagePolicy onBadImage;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (!Files.isDirectory(images)) throw new IllegalArgumentException("--images " + images + " is not a folder");
        Path file = checkpoint.resolve();
        List<OutputGuard.Input> inputs = new ArrayList<>(checkpoint.inputs(file));
        inputs.add(OutputGuard.Input.of("--images", images));
        OutputGuard.file("--out", out, ImageScores.CSV, overwrite.force, inputs);
        Checkpoint c = Checkpoint.read(file);
        var m = c.config().model();
        List<String> classes = m.classConditional() ? m.classes() : List.of();
        Integer label = className == null ? null : ClassChoice.resolve(classes, className, "checkpoint " + file);
        ImageScores s = ImageScores.score(c, images, onBadImage, common.device, out, weights.orDefault(), label);
        System.out.printf(Locale.ROOT, "scored %d images (mean bpd %s, weights %s) -> %s%n", s.bpd().length,
                woodflow.core.Figures.computed(s.mean()), c.describeWeights(weights.orDefault()), out);
        if (label != null) System.out.println("given class " + classes.get(label) + " for every image");
        if (s.likeliestClass() != null) {
            System.out.println("class-conditional model: bpd of p(x) averaged over its " + classes.size() + " classes "
                    + "(a uniform prior); the CSV names each image's likeliest class");
        }
        if (!s.skipped().isEmpty()) {
            System.out.println("skipped " + s.skipped().size() + " undecodable images: " + s.skipped());
        }
        System.out.println("least likely:");
        for (int k : s.leastLikely(5)) System.out.printf(Locale.ROOT, "  %.4f  %s%n", s.bpd()[k], s.files().get(k));
        return 0;
    }
}
