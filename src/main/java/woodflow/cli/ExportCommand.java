package woodflow.cli;

import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.interop.PaperStateDict;
import woodflow.interop.TorchArchive;
import woodflow.io.AtomicFiles;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.train.Checkpoint;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

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

    @Option(names = "--layout", defaultValue = "paper", description = "paper (default: the paper-style Glow class, "
            + "torch_glow.py) or official (the official code's WoodburyGlow, github yolu1055/WoodburyTransformations).")
    Layout layout;

    @Mixin
    WeightsOption weights;

    /** The state-dict layout written: the paper-style Glow class's, or the official code's. */
    enum Layout implements Choice {
        PAPER, OFFICIAL;

        @Override
        public String toString() {
            return label();
        }

        static Layout parse(String name) {
            return Choices.parse(Layout.class, name, "--layout");
        }
    }

    @Override
    public Integer call() throws Exception {
        common.setUp();
        Path file = checkpoint.resolve();
        Checkpoint c = Checkpoint.read(file);
        ModelConfig m = c.config().model();
        if (m.classConditional()) {
            throw new IllegalArgumentException("checkpoint " + file + " is of a class-conditional model "
                    + "(model.conditional: class): the paper's PyTorch model has no class-conditional priors, so there "
                    + "is nothing to export it to; export takes unconditional models");
        }
        boolean official = layout == Layout.OFFICIAL;
        Map<String, Tensor> state = PaperStateDict.toPaper(c.modelState(weights.orDefault()), m, official);
        AtomicFiles.write(out, TorchArchive.write(state));
        long params = c.modelState().entrySet().stream().filter(e -> !e.getKey().endsWith(".initialised"))
                .mapToLong(e -> e.getValue().numel()).sum();
        System.out.printf(Locale.ROOT, "exported %d tensors (%,d parameters) of %s (iteration %d) to %s%n",
                state.size(), params, file, c.state().iteration(), out);
        System.out.println("weights: " + c.describeWeights(weights.orDefault()) + (c.hasAverage()
                ? weights.orDefault() == woodflow.train.Weights.RAW ? " (--weights ema exports the averaged ones)"
                : " (--weights raw exports the trained ones)" : ""));
        if (official) {
            System.out.printf(Locale.ROOT, "in Python (the official code): model = WoodburyGlow(args) with "
                            + "image_shape=(%d, %d, %d), hidden_channels=%d, flow_depth=%d, num_levels=%d, is_me=%s, "
                            + "learn_top=True, ranks=%s; model.load_state_dict(torch.load(\"%s\"), strict=True)%n",
                    m.channels(), m.height(), m.width(), m.hidden(), m.steps(), m.levels(),
                    m.permutation() == Permutation.ME_WOODBURY ? "True" : "False", ranks(m), out);
            return 0;
        }
        int l = m.levels();
        IntStream dims = m.permutation() == Permutation.WOODBURY
                ? IntStream.concat(Arrays.stream(m.dC(), 0, l), Arrays.stream(m.dS(), 0, l))
                : IntStream.concat(Arrays.stream(m.dC(), 0, l), IntStream.concat(Arrays.stream(m.dH(), 0, l),
                        Arrays.stream(m.dW(), 0, l)));
        int[] ds = dims.distinct().toArray();
        int d = ds[0];
        boolean oneRank = ds.length == 1;
        System.out.printf(Locale.ROOT, "in Python: model = torch_glow.Glow((%d, %d, %d), K=%d, L=%d, hidden=%d, "
                        + "me=%s)%s; model.load_state_dict(torch.load(\"%s\"), strict=True)%n", m.channels(),
                m.height(), m.width(), m.steps(), m.levels(), m.hidden(),
                m.permutation() == Permutation.ME_WOODBURY ? "True" : "False",
                oneRank ? " with torch_glow.RANK = " + d : " (latent dimensions differ per level: "
                        + "the class needs one RANK per level)", out);
        return 0;
    }

    /** The official code's ranks argument: [d_c, d_s] or [d_c, d_h, d_w], one entry per level each. */
    private static String ranks(ModelConfig m) {
        int l = m.levels();
        int[][] lists = m.permutation() == Permutation.WOODBURY ? new int[][] {m.dC(), m.dS()}
                : new int[][] {m.dC(), m.dH(), m.dW()};
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < lists.length; i++) {
            sb.append(i > 0 ? ", " : "").append(Arrays.toString(Arrays.copyOf(lists[i], l)));
        }
        return sb.append("]").toString();
    }
}
