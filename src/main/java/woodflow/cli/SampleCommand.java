package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.model.MultiScaleFlow;
import woodflow.model.Temperature;
import woodflow.sample.SampleGrids;
import woodflow.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code woodflow sample}: draws samples at a temperature into a PNG grid, or a temperature sweep. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Draw samples from a checkpoint into a PNG grid (or a temperature sweep, one row per "
                + "temperature).", "Example: woodflow sample --checkpoint runs/fm --temperature 0.7 --out grid.png"})
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

    @Option(names = "--out", required = true, description = "PNG file to write.")
    Path out;

    /** The most images in one grid (a grid is for looking at; all of them are sampled in one batch). */
    static final int MAX_IMAGES = 1024;

    /** An output PNG: a file name (not a folder) ending in .png. */
    static void checkOut(Path out) {
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a folder: give the PNG file to write, e.g. --out "
                    + out.resolve("samples.png"));
        }
        if (!out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--out " + out + ": sample writes a PNG image; give a file name ending "
                    + "in .png");
        }
    }

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
        checkOut(out);
        if (columns < 1) throw new IllegalArgumentException("--columns must be at least 1, got " + columns);
        Temperature.COMMAND_LINE.check(temperature);
        if (sweep != null && sweep.length == 0) {
            throw new IllegalArgumentException("--sweep needs at least one temperature, e.g. --sweep 0.5,0.7,1.0");
        }
        if (sweep != null) for (double t : sweep) Temperature.COMMAND_LINE.check(t);
        Path file = checkpoint.resolve();
        Checkpoint c = Checkpoint.read(file);
        MultiScaleFlow model = precision.apply(c.model(common.device));
        int nBits = c.config().data().nBits();
        long t0 = System.nanoTime();
        String from = "seed " + seed + ", iteration " + c.state().iteration();
        if (sweep != null) {
            SampleGrids.writeSweep(model, nBits, count, sweep, seed, from, out);
        } else {
            SampleGrids.write(model, nBits, count, temperature, columns, seed, from, out);
        }
        System.out.printf(Locale.ROOT, "wrote %s (%d samples, %.2f s)%n", out,
                sweep != null ? count * sweep.length : count, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
