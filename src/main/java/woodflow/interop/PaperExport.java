package woodflow.interop;

import com.fasterxml.jackson.annotation.JsonCreator;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.io.AtomicFiles;
import woodflow.model.LatentDimension;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.train.Checkpoint;
import woodflow.train.Weights;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code woodflow export}: a woodflow checkpoint's model as a {@code torch.save} state_dict (written by libtorch's own
 * serialisation, {@link TorchArchive}) that the paper's PyTorch model loads with {@code load_state_dict(...,
 * strict=True)}, in the layout of the paper-style Glow class or of the official code ({@link PaperStateDict}), with
 * the Python line that builds the matching model.
 */
public final class PaperExport {
    /** The state-dict layout written: the paper-style Glow class's, or the official code's. */
    public enum Layout implements Choice {
        PAPER, OFFICIAL;

        @Override
        public String toString() {
            return label();
        }

        @JsonCreator
        public static Layout parse(String name) {
            return Choices.parse(Layout.class, name, "--layout");
        }
    }

    private PaperExport() {}

    /** Writes the model of the checkpoint {@code file} to {@code out} in {@code layout}; prints how to load it. */
    public static void run(Path file, Layout layout, Path out, PrintStream log) throws IOException {
        run(file, layout, null, out, log);
    }

    /**
     * As above with the chosen weights ({@code --weights}; null: the averaged ones when the checkpoint holds them,
     * which the output says).
     */
    public static void run(Path file, Layout layout, Weights weights, Path out, PrintStream log) throws IOException {
        Checkpoint c = Checkpoint.read(file);
        ModelConfig m = c.config().model();
        if (m.classConditional()) {
            throw new IllegalArgumentException("checkpoint " + file + " is of a class-conditional model "
                    + "(model.conditional: class): the paper's PyTorch model has no class-conditional priors, so there "
                    + "is nothing to export it to; export takes unconditional models");
        }
        boolean official = layout == Layout.OFFICIAL;
        Map<String, Tensor> state = PaperStateDict.toPaper(c.modelState(weights), m, official);
        AtomicFiles.write(out, TorchArchive.write(state));
        long params = c.modelState().entrySet().stream().filter(e -> !e.getKey().endsWith(".initialised"))
                .mapToLong(e -> e.getValue().numel()).sum();
        log.printf(Locale.ROOT, "exported %d tensors (%,d parameters) of %s (iteration %d) to %s%n",
                state.size(), params, file, c.state().iteration(), out);
        log.println("weights: " + c.describeWeights(weights) + (c.hasAverage() ? weights == Weights.RAW
                ? " (--weights ema exports the averaged ones)" : " (--weights raw exports the trained ones)" : ""));
        if (official) {
            log.printf(Locale.ROOT, "in Python (the official code): model = WoodburyGlow(args) with "
                            + "image_shape=(%d, %d, %d), hidden_channels=%d, flow_depth=%d, num_levels=%d, is_me=%s, "
                            + "learn_top=True, ranks=%s; model.load_state_dict(torch.load(\"%s\"), strict=True)%n",
                    m.channels(), m.height(), m.width(), m.hidden(), m.steps(), m.levels(),
                    m.permutation() == Permutation.ME_WOODBURY ? "True" : "False", ranks(m), out);
            return;
        }
        int l = m.levels();
        int[] ds = m.permutation().latentDimensions().stream().flatMapToInt(d -> Arrays.stream(d.of(m), 0, l))
                .distinct().toArray();
        int d = ds[0];
        boolean oneRank = ds.length == 1;
        log.printf(Locale.ROOT, "in Python: model = torch_glow.Glow((%d, %d, %d), K=%d, L=%d, hidden=%d, "
                        + "me=%s)%s; model.load_state_dict(torch.load(\"%s\"), strict=True)%n", m.channels(),
                m.height(), m.width(), m.steps(), m.levels(), m.hidden(),
                m.permutation() == Permutation.ME_WOODBURY ? "True" : "False",
                oneRank ? " with torch_glow.RANK = " + d : " (latent dimensions differ per level: "
                        + "the class needs one RANK per level)", out);
    }

    /** The official code's ranks argument: the layer's latent dimension lists ([d_c, d_s] or [d_c, d_h, d_w]). */
    private static String ranks(ModelConfig m) {
        int l = m.levels();
        List<LatentDimension> lists = m.permutation().latentDimensions();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < lists.size(); i++) {
            sb.append(i > 0 ? ", " : "").append(Arrays.toString(Arrays.copyOf(lists.get(i).of(m), l)));
        }
        return sb.append("]").toString();
    }
}
