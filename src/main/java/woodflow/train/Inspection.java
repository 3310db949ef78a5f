package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Precision;
import woodflow.data.Quantization;
import woodflow.data.Splits;
import woodflow.model.Flops;
import woodflow.model.ModelConfig;
import woodflow.model.ModelInspector;
import woodflow.model.MultiScaleFlow;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static woodflow.core.Tensors.s;

/**
 * {@code woodflow inspect}: a model, trained (a checkpoint) or new (a run config, float32, seeded as training seeds
 * it), walked layer by layer ({@link ModelInspector}) on a batch of its run's test images or of uniform noise, with the
 * batch's bpd, the model's work per image ({@link Flops}), the size of its gradient and the notes of its config.
 */
public final class Inspection {
    /**
     * What was inspected and found. {@code dataProblem}: why the run's test images could not be used (the input is
     * noise then), or null.
     */
    public record Report(String model, String input, List<ModelInspector.Row> rows, long parameters, double bpd,
                         double gflopPerImage, double gradientMib, List<String> notes, RuntimeException dataProblem) {}

    private final RunConfig config;
    private final MultiScaleFlow model;
    private final String source;
    private final boolean trained;

    private Inspection(RunConfig config, MultiScaleFlow model, String source, boolean trained) {
        this.config = config;
        this.model = model;
        this.source = source;
        this.trained = trained;
    }

    /** The model of a checkpoint file, on {@code device}. */
    public static Inspection ofCheckpoint(Path file, String device) throws IOException {
        Checkpoint c = Checkpoint.read(file);
        return new Inspection(c.config(), c.model(device), file + " (iteration " + c.state().iteration() + ")", true);
    }

    /** A new model of {@code cfg} ({@code source}: how the user named it), float32 on {@code device}. */
    public static Inspection ofConfig(RunConfig cfg, String source, String device) {
        cfg = cfg.validate().withClassesFromData(); // a class-conditional preset: its classes from the data
        MultiScaleFlow model = TrainStep.newModel(cfg, device);
        model.precision(Precision.FP32); // the layers as they are, not the conditioners' training precision
        return new Inspection(cfg, model, source, false);
    }

    /**
     * Inspects the model on {@code batch} images: the run's first test images when {@code withData} or when the
     * model is trained, else (or when a trained model's data cannot be opened) uniform noise in [-0.5, 0.5).
     * Untrained ActNorms are initialised on the input.
     */
    public Report inspect(boolean withData, int batch) {
        model.train(false);
        ModelConfig m = config.model();
        Tensor x = null;
        String input = "uniform noise in [-0.5, 0.5)";
        RuntimeException dataProblem = null;
        if (withData || trained) {
            try (Splits data = config.openData()) {
                List<byte[]> imgs = new ArrayList<>();
                for (int i = 0; i < Math.min(batch, data.test().size()); i++) imgs.add(data.test().image(i));
                x = Quantization.dequantize(Quantization.stack(imgs, m.channels(), m.height(), m.width()),
                        config.data().nBits());
                input = imgs.size() + " test images of " + config.data().kind();
            } catch (RuntimeException e) {
                if (withData) throw e;
                dataProblem = e;
            }
        }
        if (x == null) x = torch.rand(new long[] {batch, m.channels(), m.height(), m.width()}).sub(s(0.5));
        List<ModelInspector.Row> rows;
        double bpd;
        // a class-conditional model runs for the classes in turn
        try (var c = model.classConditional() ? model.conditionedOn(woodflow.sample.Sampler.inTurn((int) x.size(0),
                model)) : null) {
            rows = ModelInspector.inspect(model, x);
            bpd = model.bitsPerDim(x, Quantization.bins(config.data().nBits())).mean().item_double();
        }
        if (model.classConditional()) input += "; classes in turn (" + String.join(", ", model.classes()) + ")";
        return new Report(source, input, rows, model.parameterCount(), bpd, Flops.forward(m, 1) / 1e9,
                model.parameterCount() * 4 / (1024.0 * 1024.0), m.notes(), dataProblem);
    }
}
