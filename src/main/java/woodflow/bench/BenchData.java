package woodflow.bench;

import org.bytedeco.pytorch.Tensor;
import woodflow.data.BatchStream;
import woodflow.data.DataException;
import woodflow.data.DataSets;
import woodflow.data.EmbeddedSource;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.data.Splits;
import woodflow.model.ModelConfig;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The images a benchmark trains or initialises on: real training batches of the config's own data set, in the
 * seeded order a run would see them, or, when that data set is not on this machine (a preset naming files that are
 * absent), the embedded data set at the model's shape. Never uniform noise: a flow does the same arithmetic on any
 * input, but noise drives the log-scales of a fresh model to extremes a real batch never reaches, and a skipped
 * non-finite step on noise says nothing about training.
 *
 * @param images {@code (N, C, H, W)} uint8 images, decoded before any timing starts
 * @param source one line naming where they came from (printed and recorded with the figures)
 */
public record BenchData(Tensor images, String source) {
    /** At least {@code count} images (whole batches of {@code batch}) for {@code cfg}'s model. */
    public static BenchData load(RunConfig cfg, int batch, int count) {
        ModelConfig m = cfg.model();
        int batches = Math.max(1, (count + batch - 1) / batch);
        ImageSource train = null;
        String note = "";
        Splits splits = null;
        try {
            if (m.height().intValue() == m.width().intValue()) {
                splits = DataSets.open(cfg.data(), m.channels(), m.height());
                train = splits.train();
            } else {
                note = " (the data sets are square, the model's image is " + m.height() + "x" + m.width() + ")";
            }
        } catch (DataException e) {
            note = " (the config's " + cfg.data().kind() + " data is not readable here: " + e.getMessage() + ")";
        }
        try {
            if (train == null) {
                if (m.channels() != 1 && m.channels() != 3 || m.height().intValue() != m.width().intValue()) {
                    throw new IllegalArgumentException("no real images for a " + m.channels() + "x" + m.height()
                            + "x" + m.width() + " model" + note + ", and the embedded data set has 1 or 3 channels "
                            + "and square images: benchmark a config whose data set is on this machine");
                }
                train = new EmbeddedSource(Math.max(batches * batch, 64), m.channels(), m.height(), 0, 0);
                note = "embedded data set at the model's shape" + note;
            } else {
                note = train.describe();
            }
            List<byte[]> images = new ArrayList<>();
            try (BatchStream stream = BatchStream.shuffled(train, batch, cfg.train().seed(), 0, 2, 2)) {
                for (int k = 0; k < batches; k++) images.addAll(stream.next().images());
            }
            Tensor t = Quantization.stack(images, m.channels(), m.height(), m.width());
            return new BenchData(t, note);
        } finally {
            if (splits != null) splits.close();
            else if (train != null) train.close();
        }
    }
}
