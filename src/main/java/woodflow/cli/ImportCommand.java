package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.core.Init;
import woodflow.interop.PaperStateDict;
import woodflow.interop.TorchArchive;
import woodflow.io.AtomicFiles;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Adam;
import woodflow.train.Checkpoint;
import woodflow.train.CheckpointStore;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
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
        common.setUp();
        RunConfig cfg = Presets.resolve(config);
        ModelConfig m = cfg.model().validate();
        if (m.classConditional()) {
            throw new IllegalArgumentException("config " + config + " is class-conditional (model.conditional: class): "
                    + "the paper's PyTorch model has no class-conditional priors to import; give an unconditional "
                    + "config");
        }
        CheckpointStore store = new CheckpointStore(out, 1);
        if (Files.isDirectory(out) && !store.list().isEmpty()) {
            throw new IllegalArgumentException("run folder " + out + " already holds checkpoints: import into a new "
                    + "--out folder");
        }
        TorchArchive.Contents paper = TorchArchive.read(checkpoint);
        MultiScaleFlow model = new MultiScaleFlow(m, Init.float32(common.device));
        try {
            model.loadStateDict(PaperStateDict.toWoodflow(paper.tensors(), m, paperFactor));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint + " does not fit the model of " + config + ": "
                    + e.getMessage());
        }
        TrainConfig t = cfg.train();
        Adam adam = new Adam(model.namedParameters(), t.beta1(), t.beta2(), t.eps(), t.weightDecay());
        Files.createDirectories(out);
        AtomicFiles.writeString(out.resolve("config.yaml"), cfg.toYaml());
        Path file = store.pathFor(0);
        Checkpoint.save(file, cfg, model, adam, Checkpoint.TrainState.fresh(t.lr()));
        System.out.printf(Locale.ROOT, "imported %d tensors (%,d parameters) from %s%s: %s, %d levels x %d steps, %s "
                        + "coupling%n", paper.tensors().size(), model.parameterCount(), checkpoint,
                paper.via() == null ? "" : " (its '" + paper.via() + "' entry)", m.permutation(), m.levels(),
                m.steps(), m.coupling());
        System.out.println("wrote " + out.resolve("config.yaml") + " and " + file + " (iteration 0, fresh Adam state)");
        System.out.println("next: woodflow eval --checkpoint " + out + "   or   woodflow train --out " + out
                + " --resume --iterations N");
        return 0;
    }
}
