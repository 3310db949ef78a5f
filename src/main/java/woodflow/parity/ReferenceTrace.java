package woodflow.parity;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.data.DataConfig;
import woodflow.io.SafeTensors;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.model.MultiScaleFlow;
import woodflow.train.Backprop;
import woodflow.train.RunConfig;
import woodflow.train.TrainConfig;
import woodflow.train.TrainStep;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A training trace of the paper's model recorded in PyTorch by {@code scripts/reference_trace.py}: the state after
 * ActNorm's initialisation ({@code init.*}, under woodflow's names), the dequantised input of every step
 * ({@code x0, x1, ...}), the loss of every step (metadata {@code losses}) and the parameters after the last step
 * ({@code final.*}). {@link #replay} runs the same steps through woodflow's {@link TrainStep} and Adam, so any
 * difference in a formula, an initialisation convention, a parameter's role or the optimiser shows up as a
 * difference in the losses. {@code woodflow replay FILE} replays a trace and prints the differences.
 */
public final class ReferenceTrace {
    /** Per-step losses of the replay and the largest parameter difference from the reference at the end. */
    public record Replay(double[] reference, double[] ours, double largestParameterDifference) {
        public double largestLossDifference(int steps) {
            double worst = 0;
            for (int i = 0; i < Math.min(steps, ours.length); i++) worst = Math.max(worst, Math.abs(ours[i] - reference[i]));
            return worst;
        }
    }

    private final SafeTensors.Contents contents;
    private final ModelConfig config;
    private final double[] losses;

    private ReferenceTrace(SafeTensors.Contents contents) throws IOException {
        this.contents = contents;
        Map<String, String> meta = contents.metadata();
        try {
            String[] shape = meta.get("shape").split(",");
            int levels = Integer.parseInt(meta.get("L"));
            int[] dims = new int[levels];
            Arrays.fill(dims, Integer.parseInt(meta.get("d")));
            config = ModelConfig.of(Integer.parseInt(shape[0]), Integer.parseInt(shape[1]),
                            Integer.parseInt(shape[2]), levels, Integer.parseInt(meta.get("K")),
                            Integer.parseInt(meta.get("hidden")), Permutation.parse(meta.get("permutation")))
                    .withLatentDims(dims, dims, dims, dims);
            losses = woodflow.io.Json.MAPPER.readValue(meta.get("losses"), double[].class);
        } catch (RuntimeException | IOException e) {
            throw new IOException("not a reference trace (its metadata lacks the model or the losses): " + e.getMessage(), e);
        }
    }

    public static ReferenceTrace read(byte[] bytes, String what) throws IOException {
        return new ReferenceTrace(SafeTensors.read(bytes, what));
    }

    public ModelConfig config() {
        return config;
    }

    public int steps() {
        return losses.length;
    }

    /**
     * Loads the reference's initial state into a new woodflow model and takes the trace's steps with learning rate
     * 1e-3 and Adam (0.9, 0.999, 1e-8), through standard or invertible backprop.
     */
    public Replay replay(Backprop backprop) {
        try (PointerScope scope = new PointerScope()) {
            TrainConfig tc = TrainConfig.defaults().toBuilder().backprop(backprop).build();
            TrainStep step = TrainStep.of(new RunConfig("replay of a reference trace", config,
                    DataConfig.embedded(), tc), "cpu"); // 8 bits, as the trace
            MultiScaleFlow model = step.model();
            Map<String, Tensor> mine = model.stateDict();
            Map<String, Tensor> init = new LinkedHashMap<>();
            contents.tensors().forEach((k, v) -> {
                if (k.startsWith("init.")) {
                    String name = k.substring(5);
                    Tensor target = mine.get(name);
                    if (target == null) throw new IllegalArgumentException("the trace has " + name + ", the model does not");
                    init.put(name, v.reshape(target.sizes()));
                }
            });
            if (!init.keySet().equals(mine.keySet())) {
                throw new IllegalArgumentException("the trace's state names " + init.size() + " tensors, the model has "
                        + mine.size());
            }
            model.loadStateDict(init);
            model.train(true);
            double[] ours = new double[losses.length];
            for (int i = 0; i < losses.length; i++) {
                ours[i] = step.runDequantized(contents.tensors().get("x" + i), 1e-3);
            }
            double worst = 0;
            for (Map.Entry<String, Tensor> p : model.namedParameters().entrySet()) {
                Tensor ref = contents.tensors().get("final." + p.getKey());
                if (ref == null) throw new IllegalArgumentException("the trace has no final value of " + p.getKey());
                worst = Math.max(worst, p.getValue().sub(ref.reshape(p.getValue().sizes())).abs().max().item_double());
            }
            return new Replay(losses.clone(), ours, worst);
        }
    }

    /** The replay's losses beside the reference's (the first three steps, every tenth, the last) and the parameters. */
    public void print(Replay r, PrintStream out) {
        out.printf(Locale.ROOT, "%-6s %12s %12s %12s%n", "step", "reference", "woodflow", "difference");
        for (int i = 0; i < r.ours().length; i++) {
            if (i < 3 || i % 10 == 0 || i == r.ours().length - 1) {
                out.printf(Locale.ROOT, "%-6d %12.6f %12.6f %12.2e%n", i, r.reference()[i], r.ours()[i],
                        r.ours()[i] - r.reference()[i]);
            }
        }
        out.printf(Locale.ROOT, "largest parameter difference after %d steps: %.2e%n", steps(),
                r.largestParameterDifference());
    }
}
