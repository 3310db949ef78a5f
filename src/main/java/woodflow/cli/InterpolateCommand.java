package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import woodflow.io.OutputGuard;
import woodflow.sample.ClassChoice;
import woodflow.sample.Interpolation;
import woodflow.train.Checkpoint;
import woodflow.train.ImageInterpolation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow interpolate}: a strip of images along the latent path between two images. */
@Command(name = "interpolate", mixinStandardHelpOptions = true,
        description = {"Encode two images (every level's latent), interpolate between their latents (linear or "
                + "spherical) and write the decoded path as a labelled strip. The images are centre-cropped and resized "
                + "to the model's size, as score does.",
                "Example: woodflow interpolate --checkpoint runs/demo a.png b.png --steps 8 --out path.png"})
public final class InterpolateCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    CheckpointOption checkpoint;

    // any number is read, so that a wrong count is said as such (the parser's own message would name its positions)
    @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "The two images (PNG, JPEG or WebP): A, then B.")
    List<Path> images = List.of();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--steps", defaultValue = "8", description = "Images in the strip, both ends included "
            + "(default 8, at most " + Interpolation.MAX_STEPS + ").")
    int steps;

    @Option(names = "--mode", defaultValue = "linear", description = "linear (default), spherical, or both (a row "
            + "each).")
    Interpolation.Mode mode;

    @Option(names = "--class", description = "A class-conditional model: the class of both images (by name). "
            + "Without it, each image takes the class under which it is likeliest.")
    String className;

    @Option(names = "--out", required = true, description = "PNG file to write.")
    Path out;

    @Mixin
    PrecisionOption precision;

    @Mixin
    WeightsOption weights;

    @Mixin
    ForceOption overwrite;

    @Override
    public Integer call() throws Exception {
        if (images.size() != 2) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "interpolate takes exactly two images, "
                    + "got " + images.size() + ": name image A, then image B, e.g. woodflow interpolate --checkpoint "
                    + "RUN a.png b.png --out path.png");
        }
        common.setUp();
        if (steps < Interpolation.MIN_STEPS || steps > Interpolation.MAX_STEPS) {
            throw new IllegalArgumentException("--steps must be between " + Interpolation.MIN_STEPS + " and "
                    + Interpolation.MAX_STEPS + " (images in the strip, both ends included), got " + steps);
        }
        for (Path p : images) {
            if (Files.isDirectory(p)) {
                throw new IllegalArgumentException("image " + p + " is a folder, not an image file: give one image "
                        + "file (PNG, JPEG or WebP) for A and one for B");
            }
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("image " + p + " does not exist");
        }
        Path file = checkpoint.resolve();
        // never over an input (the images, the checkpoint), nor over a file that is not a PNG without --force
        List<OutputGuard.Input> inputs = new java.util.ArrayList<>(checkpoint.inputs(file));
        inputs.add(OutputGuard.Input.of("IMAGE", images.get(0)));
        inputs.add(OutputGuard.Input.of("IMAGE", images.get(1)));
        OutputGuard.file("--out", out, OutputGuard.FileKind.PNG, overwrite.force, inputs);
        Checkpoint c = Checkpoint.read(file);
        var m = c.config().model();
        List<String> classes = m.classConditional() ? m.classes() : List.of();
        Integer label = className == null ? null : ClassChoice.resolve(classes, className, "checkpoint " + file);
        long t0 = System.nanoTime();
        ImageInterpolation r = ImageInterpolation.between(c, images.get(0), images.get(1), steps, mode, label,
                weights.orDefault(), precision.orFp32(), common.device);
        if (r.chosen()) {
            System.out.printf(Locale.ROOT, "classes: A %s, B %s (each image's likeliest; --class NAME sets both)%n",
                    classes.get(r.labelA()), classes.get(r.labelB()));
        }
        String title = String.format(Locale.ROOT, "%s to %s, %d steps (%s, iteration %d)", images.get(0).getFileName(),
                images.get(1).getFileName(), steps, c.describeWeights(weights.orDefault()), c.state().iteration());
        woodflow.io.AtomicFiles.write(out, r.strip().png(m.channels(), m.height(), m.width(), title));
        System.out.printf(Locale.ROOT, "wrote %s: %d images from %s to %s (%s), weights %s, %.2f s%n", out,
                r.strip().images().size(), images.get(0), images.get(1), String.join(" and ", r.strip().rows()),
                c.describeWeights(weights.orDefault()), (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
