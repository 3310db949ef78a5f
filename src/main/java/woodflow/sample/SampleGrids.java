package woodflow.sample;

import org.bytedeco.pytorch.Tensor;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.picture.ImageGrid;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The labelled PNG grids of {@code woodflow sample}: {@code count} samples at one temperature, or a temperature sweep
 * (one row of {@code count} per temperature, the same latent noise in every column). Labels say where the samples
 * come from ({@code from}, e.g. the seed and the checkpoint's iteration).
 */
public final class SampleGrids {
    private SampleGrids() {}

    /** {@code count} samples at temperature T in rows of {@code columns}, written to {@code png}. */
    public static void write(MultiScaleFlow model, int nBits, int count, double temperature, int columns, long seed,
                             String from, Path png) throws IOException {
        ModelConfig m = model.config();
        Tensor s = Sampler.sample(model, count, temperature, nBits, seed);
        ImageGrid.writeLabelled(ImageGrid.images(s), m.channels(), m.height(), m.width(), columns,
                ImageGrid.Labels.numbered(count + " samples at T = " + temperature + " (" + from + ")", count,
                        columns), png);
    }

    /** One row of {@code count} samples per temperature, the same noise in each column, written to {@code png}. */
    public static void writeSweep(MultiScaleFlow model, int nBits, int count, double[] temperatures, long seed,
                                  String from, Path png) throws IOException {
        ModelConfig m = model.config();
        List<byte[]> rows = Sampler.temperatureSweep(model, temperatures, count, nBits, seed);
        List<String> labels = new ArrayList<>();
        for (double t : temperatures) labels.add("T = " + t);
        List<String> numbers = ImageGrid.Labels.numbered("", count, count).columns();
        ImageGrid.writeLabelled(rows, m.channels(), m.height(), m.width(), count, new ImageGrid.Labels(
                "temperature sweep, the same noise in each column (" + from + ")", labels, numbers), png);
    }
}
