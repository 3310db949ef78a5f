package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.train.Doctor;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code woodflow doctor}: the machine, and the fast paths checked against the reference paths for a model, as the
 * start-up self-check of {@code train} does, with every result printed. Exit 1 when a fast path is wrong.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Print the machine (CPU, ISA, AMX, threads, libtorch, oneDNN, its measured and theoretical peak "
                + "rates) and check the fast convolution "
                + "path against the reference path for a preset or config, forward and backward; exit 1 if it is "
                + "wrong here.", "Example: woodflow doctor --preset cifar10-woodbury"})
public final class DoctorCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--preset", description = "A named preset (default: demo).")
    String preset;

    @Option(names = "--config", description = "A YAML/JSON run config file.")
    Path config;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--batch", description = "Batch size of the checks (default: the config's training batch).")
    Integer batch;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (preset != null && config != null) throw new IllegalArgumentException("give --preset or --config, not both");
        RunConfig cfg = config != null ? RunConfig.read(config) : Presets.load(preset != null ? preset : "demo");
        if (batch != null && batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        TrainConfig tc = cfg.train().toBuilder().batch(batch).precision(precision.orConfig()).build();
        cfg = cfg.withTrain(tc).validate().withClassesFromData();
        return Doctor.run(cfg, preset != null ? preset : config != null ? config.toString() : "demo",
                common.device, System.out);
    }
}
