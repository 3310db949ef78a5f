package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.interop.PaperImport;
import woodflow.io.OutputGuard;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.RunFolder;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow import}: a torch.save state_dict of the paper's PyTorch model as a woodflow run. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Read a torch.save checkpoint of the paper's PyTorch Woodbury-Glow (its state_dict, through "
                + "libtorch's own unpickler) and write a woodflow run folder (config.yaml and a checkpoint at "
                + "iteration 0) that eval, sample, score and train --resume accept.",
                "Example: woodflow import --checkpoint paper.pt --config fmnist-woodbury --out runs/paper"})
public final class ImportCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--checkpoint", required = true, description = "The paper code's torch.save file (.pt).")
    Path checkpoint;

    @Option(names = "--config", required = true, description = "Run config of the same architecture: a preset name "
            + "or a YAML/JSON file (its model section must describe the paper's model; data and train are kept).")
    String config;

    @Option(names = "--out", required = true, description = "Run folder to create.")
    Path out;

    @Option(names = "--logscale-factor", defaultValue = "1", description = "f of the writing code's Conv2dZeros, "
            + "exp(logs * f) (default 1, the paper's code; Glow's is 3).")
    double paperFactor;

    @Override
    public Integer call() throws Exception {
        if (!Double.isFinite(paperFactor) || paperFactor <= 0) {
            throw new IllegalArgumentException("--logscale-factor must be a finite number > 0 (the f of exp(logs * f)),"
                    + " got " + paperFactor + "; e.g. --logscale-factor 1 (the paper's code) or 3 (Glow's)");
        }
        common.setUp();
        RunConfig cfg = Presets.resolve(config);
        RunFolder.checkOut("--out", out, Presets.fileOf(config), cfg, OutputGuard.Input.of("--checkpoint", checkpoint));
        PaperImport.run(checkpoint, cfg, config, out, paperFactor, common.device, System.out);
        return 0;
    }
}
