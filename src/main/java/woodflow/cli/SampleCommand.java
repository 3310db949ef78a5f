package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.model.MultiScaleFlow;
import woodflow.io.OutputGuard;
import woodflow.model.Temperature;
import woodflow.sample.ClassChoice;
import woodflow.sample.SampleGrids;
import woodflow.train.Checkpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow sample}: draws samples at a temperature into a PNG grid, or a temperature sweep. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Draw samples from a checkpoint into a PNG grid (or a temperature sweep, one row per "
                + "temperature); a class-conditional model draws one class (--class NAME) or a class per row.",
                "Example: woodflow sample --checkpoint runs/fm --temperature 0.7 --out grid.png"})
public final class SampleCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    CheckpointOption checkpoint;

    @Option(names = "--temperature", defaultValue = "0.7", description = "Temperature T > 0 (default 0.7).")
    double temperature;

    @Option(names = "--sweep", split = ",", description = "Temperatures for a sweep, e.g. 0.5,0.7,0.875,1.0.")
    double[] sweep;

    @Option(names = {"-n", "--count"}, defaultValue = "64", description = "Number of samples (per row with --sweep).")
    int count;

    @Option(names = "--columns", defaultValue = "8", description = "Images per row of the grid.")
    int columns;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the latent noise.")
    long seed;

    @Mixin
    PrecisionOption precision;

    @Mixin
    WeightsOption weights;

    @Option(names = "--class", description = "A class-conditional model: draw every sample of this class (by name, "
            + "e.g. --class ring). Without it, each row of the grid is one class, in turn.")
    String className;

    @Option(names = "--out", required = true, description = "PNG file to write.")
    Path out;

    @Mixin
    ForceOption overwrite;

    /** The most images in one grid (a grid is for looking at; all of them are sampled in one batch). */
    static final int MAX_IMAGES = 1024;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (count < 1) throw new IllegalArgumentException("--count must be at least 1, got " + count);
        int images = sweep != null ? count * sweep.length : count;
        if (images > MAX_IMAGES) {
            throw new IllegalArgumentException("-n " + count + (sweep != null ? " x " + sweep.length
                    + " temperatures" : "") + " asks for " + images + " images in one grid; a grid holds at most "
                    + MAX_IMAGES + " (for more samples, run again with another --seed)");
        }
        if (columns < 1) throw new IllegalArgumentException("--columns must be at least 1, got " + columns);
        Temperature.COMMAND_LINE.check(temperature);
        if (sweep != null && sweep.length == 0) {
            throw new IllegalArgumentException("--sweep needs at least one temperature, e.g. --sweep 0.5,0.7,1.0");
        }
        if (sweep != null) for (double t : sweep) Temperature.COMMAND_LINE.check(t);
        Path file = checkpoint.resolve();
        OutputGuard.file("--out", out, OutputGuard.FileKind.PNG, overwrite.force, checkpoint.inputs(file));
        Checkpoint c = Checkpoint.read(file);
        var m = c.config().model();
        Integer label = className == null ? null : ClassChoice.resolve(m.classConditional() ? m.classes()
                : List.of(), className, "checkpoint " + file);
        MultiScaleFlow model = precision.apply(c.model(common.device, weights.orDefault()));
        int nBits = c.config().data().nBits();
        long t0 = System.nanoTime();
        String from = "seed " + seed + ", iteration " + c.state().iteration();
        if (sweep != null) {
            SampleGrids.writeSweep(model, nBits, count, sweep, seed, from, label, out);
        } else {
            SampleGrids.write(model, nBits, count, temperature, columns, seed, from, label, out);
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d samples, weights %s, %.2f s)%n", out,
                sweep != null ? count * sweep.length : count, c.describeWeights(weights.orDefault()),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
