package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.run.TrainingRun;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow demo}: the main job on a fresh machine, with no data to download. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Train a small Woodbury-Glow on the embedded shapes (generated, no download) for about three "
                + "minutes on two cores, then write samples, a learning curve and report.html, and print how many "
                + "samples a shape classifier recognises beside real images and noise.",
                "Example: woodflow demo   (then open runs/demo/report.html)"})
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--out", description = "Run folder (default: runs/demo, or runs/demo-N if that is taken).")
    Path out;

    @Option(names = "--iterations", description = "Training iterations (default: the demo preset's).")
    Integer iterations;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--quiet", description = "Print only the final summary.")
    boolean quiet;

    @Option(names = "--conditional", description = "A class-conditional demo (the demo-conditional preset): the "
            + "priors take the shape kind, the report shows a row of samples per kind, and the output how often the "
            + "shape classifier names the requested shape.")
    boolean conditional;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        String preset = conditional ? "demo-conditional" : "demo";
        RunConfig cfg = Presets.load(preset);
        cfg = cfg.withTrain(cfg.train().toBuilder().iterations(iterations).precision(precision.orConfig()).build()).validate();
        Path dir = out;
        if (dir == null) {
            dir = Path.of("runs", preset);
            for (int i = 2; Files.exists(dir); i++) dir = Path.of("runs", preset + "-" + i);
        }
        // the demo trains a new run: a folder that holds one already is continued with train --resume instead
        woodflow.io.OutputGuard.folder("--out", dir, woodflow.io.OutputGuard.FolderKind.NEW_OR_EMPTY);
        System.out.println("woodflow demo: " + cfg.description());
        if (!quiet) System.out.println("watch it train in the browser: " + ServeCommand.howToOpen(dir));
        int code = new TrainingRun(cfg, dir, false, true, quiet, "the " + preset + " preset", common.device).alone();
        System.out.println("dashboard: " + ServeCommand.howToOpen(dir));
        return code;
    }
}
