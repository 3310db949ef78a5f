package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.interop.PaperExport;
import woodflow.io.OutputGuard;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow export}: a woodflow checkpoint as a state_dict file of the paper's PyTorch model. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a checkpoint's model as a torch.save state_dict that the paper's PyTorch Glow class "
                + "loads with load_state_dict(..., strict=True) (written by libtorch's own serialisation).",
                "Example: woodflow export --checkpoint runs/fm --out model.pt"})
public final class ExportCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Mixin
    CheckpointOption checkpoint;

    @Option(names = "--out", required = true, description = "The .pt file to write.")
    Path out;

    @Mixin
    ForceOption overwrite;

    @Option(names = "--layout", defaultValue = "paper", description = "paper (default: the paper-style Glow class, "
            + "torch_glow.py) or official (the official code's WoodburyGlow, github yolu1055/WoodburyTransformations).")
    PaperExport.Layout layout;

    @Mixin
    WeightsOption weights;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        Path file = checkpoint.resolve();
        OutputGuard.file("--out", out, OutputGuard.FileKind.TORCH_SAVE, overwrite.force, checkpoint.inputs(file));
        PaperExport.run(file, layout, weights.orDefault(), out, System.out);
        return 0;
    }
}
