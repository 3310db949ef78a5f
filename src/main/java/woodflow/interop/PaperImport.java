package woodflow.interop;

import woodflow.io.AtomicFiles;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Checkpoint;
import woodflow.train.CheckpointStore;
import woodflow.train.RunConfig;
import woodflow.train.RunLock;
import woodflow.train.TrainStep;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code woodflow import}: a {@code torch.save} state_dict of the paper's PyTorch model ({@link TorchArchive}, read by
 * libtorch's own unpickler) as a new woodflow run folder: {@code config.yaml} and a checkpoint at iteration 0 with a
 * fresh Adam state, which eval, sample, score and {@code train --resume} accept. The names and layouts are mapped by
 * {@link PaperStateDict}.
 */
public final class PaperImport {
    private PaperImport() {}

    /**
     * Imports {@code checkpoint} into the new run folder {@code out} with the run config {@code cfg} (named
     * {@code configName} in errors), whose model must be the paper model's architecture; {@code paperFactor} is f of
     * the writing code's {@code exp(logs * f)}. Prints what it did and what to run next.
     */
    public static void run(Path checkpoint, RunConfig cfg, String configName, Path out, double paperFactor,
                           String device, PrintStream log) throws IOException {
        ModelConfig m = cfg.model().validate();
        if (m.classConditional()) {
            throw new IllegalArgumentException("config " + configName + " is class-conditional (model.conditional: "
                    + "class): the paper's PyTorch model has no class-conditional priors to import; give an "
                    + "unconditional config");
        }
        CheckpointStore store = new CheckpointStore(out, 1);
        if (Files.isDirectory(out) && !store.list().isEmpty()) {
            throw new IllegalArgumentException("run folder " + out + " already holds checkpoints: import into a new "
                    + "--out folder");
        }
        TorchArchive.Contents paper = TorchArchive.read(checkpoint);
        TrainStep fresh = TrainStep.of(cfg, device);
        MultiScaleFlow model = fresh.model();
        try {
            model.loadStateDict(PaperStateDict.toWoodflow(paper.tensors(), m, paperFactor));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(checkpoint + " does not fit the model of " + configName + ": "
                    + e.getMessage());
        }
        Path file = store.pathFor(0);
        try (RunLock lock = RunLock.acquire(out)) { // the run folder's marker, and no trainer in it meanwhile
            AtomicFiles.writeString(out.resolve("config.yaml"), cfg.toYaml());
            Checkpoint.save(file, cfg, model, fresh.adam(), Checkpoint.TrainState.fresh(cfg.train().lr()));
        }
        log.printf(Locale.ROOT, "imported %d tensors (%,d parameters) from %s%s: %s, %d levels x %d steps, %s "
                        + "coupling%n", paper.tensors().size(), model.parameterCount(), checkpoint,
                paper.via() == null ? "" : " (its '" + paper.via() + "' entry)", m.permutation(), m.levels(),
                m.steps(), m.coupling());
        log.println("wrote " + out.resolve("config.yaml") + " and " + file + " (iteration 0, fresh Adam state)");
        log.println("next: woodflow eval --checkpoint " + out + "   or   woodflow train --out " + out
                + " --resume --iterations N");
    }
}
