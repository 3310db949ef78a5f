package woodflow.cli;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.core.Init;
import woodflow.data.Quantization;
import woodflow.data.Splits;
import woodflow.model.ModelInspector;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Checkpoint;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static woodflow.core.Tensors.s;

/** {@code woodflow inspect}: a model's layers, shapes, parameter counts and log-det contributions. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Print a model's layers with output shapes, parameter counts and log-det contributions, for a "
                + "preset, a config file or a checkpoint.", "Example: woodflow inspect --preset cifar10-woodbury"})
public final class InspectCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--preset", description = "A named preset.")
    String preset;

    @Option(names = "--config", description = "A YAML/JSON run config file.")
    Path config;

    @Option(names = "--checkpoint", description = "A checkpoint file or run folder.")
    Path checkpoint;

    @Option(names = "--data", description = "Use a batch of the run's test images as input (default for a "
            + "checkpoint) instead of uniform noise.")
    boolean withData;

    @Option(names = "--batch", defaultValue = "4", description = "Input batch size (default 4).")
    int batch;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        int given = (preset != null ? 1 : 0) + (config != null ? 1 : 0) + (checkpoint != null ? 1 : 0);
        if (given != 1) throw new IllegalArgumentException("give exactly one of --preset, --config, --checkpoint");
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        RunConfig cfg;
        MultiScaleFlow model;
        String source;
        if (checkpoint != null) {
            Path f = CheckpointOption.resolve(checkpoint);
            Checkpoint c = Checkpoint.read(f);
            cfg = c.config();
            model = c.model(common.device);
            source = f + " (iteration " + c.state().iteration() + ")";
        } else {
            cfg = Runs.withClasses((preset != null ? Presets.load(preset) : RunConfig.read(config)).validate());
            torch.manual_seed(cfg.train().seed());
            model = new MultiScaleFlow(cfg.model(), Init.float32(common.device));
            source = preset != null ? "preset " + preset : config.toString();
        }
        model.train(false);
        var m = cfg.model();
        Tensor x = null;
        String input = "uniform noise in [-0.5, 0.5)";
        if (withData || checkpoint != null) {
            try (Splits data = Runs.open(cfg)) {
                List<byte[]> imgs = new ArrayList<>();
                for (int i = 0; i < Math.min(batch, data.test().size()); i++) imgs.add(data.test().image(i));
                x = Quantization.dequantize(Quantization.stack(imgs, m.channels(), m.height(), m.width()),
                        cfg.data().nBits());
                input = imgs.size() + " test images of " + cfg.data().kind();
            } catch (RuntimeException e) {
                if (withData) throw e;
                input += " (the run's data could not be opened: " + Main.reason(e) + ")";
            }
        }
        if (x == null) x = torch.rand(new long[] {batch, m.channels(), m.height(), m.width()}).sub(s(0.5));
        System.out.println("model: " + source);
        System.out.println("input: " + input + "; untrained ActNorms are initialised on it"
                + (model.classConditional() ? "; classes in turn (" + String.join(", ", model.classes()) + ")" : ""));
        double bpd;
        // a class-conditional model runs for the classes in turn
        try (var c = model.classConditional() ? model.conditionedOn(
                woodflow.sample.Sampler.inTurn((int) x.size(0), model)) : null) {
            System.out.print(ModelInspector.table(ModelInspector.inspect(model, x), model.parameterCount()));
            bpd = model.bitsPerDim(x, Quantization.bins(cfg.data().nBits())).mean().item_double();
        }
        System.out.printf("bits per dimension of the input: %.4f%n", bpd);
        System.out.printf(java.util.Locale.ROOT, "work: %.3f GFLOP per image forward (a training step about 3x that); "
                + "gradient %.1f MiB in float32%n", woodflow.bench.Flops.forward(m, 1) / 1e9,
                model.parameterCount() * 4 / (1024.0 * 1024.0));
        for (String n : m.notes()) System.out.println("note: " + n);
        return 0;
    }
}
