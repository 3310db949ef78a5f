package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.soak.Soak;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow soak}: the crash-safety soak ({@link Soak}) of a preset, a config or a tiny default run. */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Crash-safety soak test: train/kill -9/resume a tiny run N times, then check it matches an "
                + "uninterrupted run bit for bit.", "Example: woodflow soak --cycles 50 --out runs/soak"})
public final class SoakCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--cycles", defaultValue = "20", description = "Train/kill cycles (default 20).")
    int cycles;

    @Option(names = "--iterations", description = "Total iterations (default: the config's, 60 for the tiny one, "
            + "and at least 4 per cycle).")
    Integer iterations;

    @Option(names = "--preset", description = "A named preset to soak, e.g. demo (default: a tiny model on the "
            + "embedded data).")
    String preset;

    @Option(names = "--config", description = "Run config to soak (default: a tiny model on the embedded data).")
    Path config;

    @Option(names = "--out", defaultValue = "runs/soak", description = "An empty or new folder for the two runs "
            + "(default runs/soak).")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the kill times.")
    long seed;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (config != null && preset != null) throw new IllegalArgumentException("give --config or --preset, not both");
        RunConfig base = config != null ? RunConfig.read(config) : preset != null ? Presets.load(preset)
                : Soak.tinyConfig();
        woodflow.io.OutputGuard.folder("--out", out, woodflow.io.OutputGuard.FolderKind.NEW_OR_EMPTY,
                woodflow.io.OutputGuard.Input.of("--config", config));
        return Soak.of(base, iterations, cycles, seed, out, Main.class).run(common.threads);
    }
}
