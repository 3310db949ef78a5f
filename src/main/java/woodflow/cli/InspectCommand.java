package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.model.ModelInspector;
import woodflow.train.Inspection;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

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
        Inspection inspection = checkpoint != null
                ? Inspection.ofCheckpoint(CheckpointOption.resolve(checkpoint), common.device)
                : Inspection.ofConfig(preset != null ? Presets.load(preset) : RunConfig.read(config),
                        preset != null ? "preset " + preset : config.toString(), common.device);
        Inspection.Report r = inspection.inspect(withData, batch);
        System.out.println("model: " + r.model());
        System.out.println("input: " + r.input() + (r.dataProblem() == null ? "" : " (the run's data could not be "
                + "opened: " + Main.reason(r.dataProblem()) + ")") + "; untrained ActNorms are initialised on it");
        System.out.print(ModelInspector.table(r.rows(), r.parameters()));
        System.out.printf("bits per dimension of the input: %.4f%n", r.bpd());
        System.out.printf(Locale.ROOT, "work: %.3f GFLOP per image forward (a training step about 3x that); "
                + "gradient %.1f MiB in float32%n", r.gflopPerImage(), r.gradientMib());
        for (String n : r.notes()) System.out.println("note: " + n);
        return 0;
    }
}
