package woodflow.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.train.Checkpoint;
import woodflow.train.CheckpointStore;
import woodflow.train.MetricsLog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compares two run folders of the same config, e.g. an uninterrupted run and one that was killed and resumed many
 * times: the final checkpoints (every parameter, buffer and Adam moment bit for bit, and the counters), the best
 * checkpoints, and the metrics records. Training randomness is a function of (seed, iteration), so the two must agree
 * exactly; only wall-clock fields ({@code images_per_s}, {@code train_seconds}) are left out, being timings.
 */
public final class RunComparison {
    /** Metrics and checkpoint fields that measure time, not training. */
    static final Set<String> TIMING = Set.of("images_per_s", "train_seconds");

    /** What was compared, and every difference found (empty when the runs agree). */
    public record Report(int tensors, int metricsRecords, List<String> differences) {
        public boolean identical() {
            return differences.isEmpty();
        }
    }

    private RunComparison() {}

    /** Compares the runs in {@code expected} and {@code actual}, both trained to {@code iterations}. */
    public static Report compare(Path expected, Path actual, long iterations) throws IOException {
        List<String> diffs = new ArrayList<>();
        CheckpointStore a = new CheckpointStore(expected, 1), b = new CheckpointStore(actual, 1);
        int tensors = compareCheckpoints(a.pathFor(iterations), b.pathFor(iterations), diffs);
        if (Files.exists(a.best()) || Files.exists(b.best())) tensors += compareCheckpoints(a.best(), b.best(), diffs);
        List<JsonNode> ma = MetricsLog.read(expected.resolve("metrics.jsonl"));
        List<JsonNode> mb = MetricsLog.read(actual.resolve("metrics.jsonl"));
        if (ma.size() != mb.size()) {
            diffs.add("metrics: " + ma.size() + " records in " + expected + " but " + mb.size() + " in " + actual);
        }
        for (int i = 0; i < Math.min(ma.size(), mb.size()); i++) {
            JsonNode x = withoutTiming(ma.get(i)), y = withoutTiming(mb.get(i));
            if (!x.equals(y)) diffs.add("metrics record " + (i + 1) + ": expected " + x + ", got " + y);
        }
        return new Report(tensors, Math.min(ma.size(), mb.size()), diffs);
    }

    private static JsonNode withoutTiming(JsonNode n) {
        ObjectNode copy = ((ObjectNode) n).deepCopy();
        copy.remove(TIMING);
        return copy;
    }

    private static int compareCheckpoints(Path fa, Path fb, List<String> diffs) throws IOException {
        if (!Files.exists(fa) || !Files.exists(fb)) {
            diffs.add("checkpoint " + fb.getFileName() + " missing in " + (Files.exists(fa) ? fb : fa).getParent());
            return 0;
        }
        Checkpoint ca = Checkpoint.read(fa), cb = Checkpoint.read(fb);
        String name = fb.getFileName().toString();
        Checkpoint.TrainState sa = ca.state(), sb = cb.state();
        Checkpoint.TrainState untimedA = new Checkpoint.TrainState(sa.iteration(), sa.adamStep(), sa.bestTestBpd(),
                sa.lr(), sa.skippedSteps(), 0, sa.logLossSum(), sa.logSteps(), sa.badInARow());
        Checkpoint.TrainState untimedB = new Checkpoint.TrainState(sb.iteration(), sb.adamStep(), sb.bestTestBpd(),
                sb.lr(), sb.skippedSteps(), 0, sb.logLossSum(), sb.logSteps(), sb.badInARow());
        if (!untimedA.equals(untimedB)) diffs.add(name + ": state " + untimedA + " vs " + untimedB);
        if (!ca.tensors().keySet().equals(cb.tensors().keySet())) {
            diffs.add(name + ": different tensor names");
            return 0;
        }
        for (Map.Entry<String, Tensor> e : ca.tensors().entrySet()) {
            if (!torch.equal(e.getValue(), cb.tensors().get(e.getKey()))) {
                diffs.add(name + ": tensor " + e.getKey() + " differs (max |diff| "
                        + e.getValue().sub(cb.tensors().get(e.getKey())).abs().max().item_double() + ")");
            }
        }
        return ca.tensors().size();
    }
}
