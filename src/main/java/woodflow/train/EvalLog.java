package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import woodflow.io.OutputGuard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The evaluations of a run's checkpoints by {@code woodflow eval}: one JSON object per evaluation, appended to
 * {@code RUN/evals.jsonl}, and the same object in the file {@code eval --json} names. The dashboard's run page lists
 * them. {@code evals.jsonl} is the one file of a run folder that is not its trainer's (the output rule of
 * {@link OutputGuard} keeps every other output out of run folders): no trainer reads or writes it, and {@code eval}
 * only appends single lines to it, so an evaluation next to a running trainer changes nothing of the trainer's.
 * <pre>
 *   {"time", "checkpoint", "iteration", "split", "images", "batch", "noise_seed", "precision", "dequantization",
 *    "weights", "samples": K, "bpd": one-sample figure, "bpd_mean_of_samples", "bpd_bound": the K-sample bound, "seconds"}
 * </pre>
 */
public final class EvalLog {
    private EvalLog() {}

    public static final String FILE = "evals.jsonl";
    private static final ObjectMapper JSON = woodflow.io.Json.MAPPER;

    /** What one evaluation was: the checkpoint, the images and noise, and how the figures were computed. */
    public record Setting(String checkpoint, long iteration, String split, int batch, long noiseSeed, String precision,
                          String dequantization, String weights) {}

    /** The record of an evaluation: its setting and the figures of {@code r} (bits per dimension, means over images). */
    public static ObjectNode record(Setting s, ImportanceWeightedBound.Result r, double seconds) {
        ObjectNode o = JSON.createObjectNode();
        o.put("time", Instant.now().toString()).put("checkpoint", s.checkpoint()).put("iteration", s.iteration())
                .put("split", s.split()).put("images", r.oneSample().length).put("batch", s.batch())
                .put("noise_seed", s.noiseSeed()).put("precision", s.precision())
                .put("dequantization", s.dequantization()).put("weights", s.weights()).put("samples", r.samples());
        number(o, "bpd", r.oneSampleBpd());
        number(o, "bpd_mean_of_samples", r.meanOfSamplesBpd());
        number(o, "bpd_bound", r.boundBpd());
        o.put("seconds", seconds);
        return o;
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    /**
     * The run folder a checkpoint file belongs to ({@code RUN/checkpoints/NAME.safetensors} with {@code RUN/config.yaml}
     * beside), or null for a checkpoint elsewhere.
     */
    public static Path runFolderOf(Path checkpoint) {
        Path dir = checkpoint.toAbsolutePath().normalize().getParent();
        if (dir == null || !dir.getFileName().toString().equals("checkpoints")) return null;
        Path run = dir.getParent();
        return run != null && Files.isRegularFile(run.resolve("config.yaml")) ? run : null;
    }

    /** What {@code eval --json} writes: one JSON object (an existing file of that kind may be replaced). */
    public static final OutputGuard.FileKind JSON_FILE = new OutputGuard.FileKind("a JSON object", List.of(".json"),
            bytes -> new String(bytes, StandardCharsets.UTF_8).stripLeading().startsWith("{"));

    /** Appends one record to {@code RUN/evals.jsonl} as a single write (a crash leaves at most one torn line). */
    public static Path append(Path runDir, ObjectNode record) throws IOException {
        Path file = runDir.resolve(FILE);
        byte[] line = (JSON.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
        Files.write(file, line, StandardOpenOption.APPEND, StandardOpenOption.CREATE, StandardOpenOption.SYNC);
        return file;
    }

    /** The records of a run's {@code evals.jsonl}, oldest first; none when there is no file; torn lines skipped. */
    public static List<JsonNode> read(Path runDir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path file = runDir.resolve(FILE);
        if (!Files.isRegularFile(file)) return out;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
                JsonNode n = JSON.readTree(line);
                if (n != null && n.isObject()) out.add(n);
            } catch (IOException e) {
                // a line torn by a killed writer
            }
        }
        return out;
    }
}
