package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.data.BadImagePolicy;
import woodflow.train.Checkpoint;
import woodflow.train.ImageScores;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @Option(names = "--on-bad-image", defaultValue = "skip", description = "skip (default) or fail on an "
            + "undecodable image.")
    BadImagePolicy onBadImage;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (!Files.isDirectory(images)) throw new IllegalArgumentException("--images " + images + " is not a folder");
        ImageScores s = ImageScores.score(Checkpoint.read(checkpoint.resolve()), images, onBadImage, common.device,
                out);
        System.out.printf(Locale.ROOT, "scored %d images (mean bpd %.4f) -> %s%n", s.bpd().length, s.mean(), out);
        if (!s.skipped().isEmpty()) {
            System.out.println("skipped " + s.skipped().size() + " undecodable images: " + s.skipped());
        }
        System.out.println("least likely:");
        for (int k : s.leastLikely(5)) System.out.printf(Locale.ROOT, "  %.4f  %s%n", s.bpd()[k], s.files().get(k));
        return 0;
    }
}
