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
 * come from ({@code from}, e.g. the seed and the checkpoint's iteration). A class-conditional model draws one class
 * ({@code label}), or without one a class per row of the grid (a sweep: the classes in turn along each row), each
 * labelled with its class.
 */
public final class SampleGrids {
    private SampleGrids() {}

    /** {@code count} samples at temperature T in rows of {@code columns}, written to {@code png}. */
    public static void write(MultiScaleFlow model, int nBits, int count, double temperature, int columns, long seed,
                             String from, Path png) throws IOException {
        write(model, nBits, count, temperature, columns, seed, from, null, png);
    }

    /** As above, all of class {@code label} (a class-conditional model; null: a class per row). */
    public static void write(MultiScaleFlow model, int nBits, int count, double temperature, int columns, long seed,
                             String from, Integer label, Path png) throws IOException {
        ModelConfig m = model.config();
        List<String> classes = model.classes();
        if (!classes.isEmpty() && label == null) {
            int[] y = ClassChoice.byRow(count, columns, classes.size());
            Tensor s = Sampler.sample(model, count, temperature, nBits, seed, y);
            List<String> rows = new ArrayList<>();
            for (int r = 0; r * columns < count; r++) rows.add(classes.get(r % classes.size()));
            ImageGrid.writeLabelled(ImageGrid.images(s), m.channels(), m.height(), m.width(), columns,
                    new ImageGrid.Labels(count + " samples at T = " + temperature + ", a class per row (" + from + ")",
                            rows, ImageGrid.Labels.numbered("", count, columns).columns()), png);
            return;
        }
        Tensor s = Sampler.sample(model, count, temperature, nBits, seed, label == null ? null
                : Sampler.fill(count, label));
        String of = label == null ? "" : ", class " + classes.get(label);
        ImageGrid.writeLabelled(ImageGrid.images(s), m.channels(), m.height(), m.width(), columns,
                ImageGrid.Labels.numbered(count + " samples at T = " + temperature + " (" + from + of + ")", count,
                        columns), png);
    }

    /** One row of {@code count} samples per temperature, the same noise in each column, written to {@code png}. */
    public static void writeSweep(MultiScaleFlow model, int nBits, int count, double[] temperatures, long seed,
                                  String from, Path png) throws IOException {
        writeSweep(model, nBits, count, temperatures, seed, from, null, png);
    }

    /** As above, all of class {@code label} (a class-conditional model; null: the classes in turn along each row). */
    public static void writeSweep(MultiScaleFlow model, int nBits, int count, double[] temperatures, long seed,
                                  String from, Integer label, Path png) throws IOException {
        ModelConfig m = model.config();
        List<String> classes = model.classes();
        List<byte[]> rows = Sampler.temperatureSweep(model, temperatures, count, nBits, seed, label);
        List<String> labels = new ArrayList<>();
        for (double t : temperatures) labels.add("T = " + t);
        List<String> columns = ImageGrid.Labels.numbered("", count, count).columns();
        if (!classes.isEmpty() && label == null) {
            columns = new ArrayList<>();
            for (int i = 0; i < count; i++) columns.add(classes.get(i % classes.size()));
        }
        String of = label == null ? "" : ", class " + classes.get(label);
        ImageGrid.writeLabelled(rows, m.channels(), m.height(), m.width(), count, new ImageGrid.Labels(
                "temperature sweep, the same noise in each column (" + from + of + ")", labels, columns), png);
    }
}
