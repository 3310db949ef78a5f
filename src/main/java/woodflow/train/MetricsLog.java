package woodflow.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The run's machine-readable metrics, one JSON object per line ({@code metrics.jsonl}). Each line is written with a
 * single append and flushed, so a crash leaves at most one torn final line; {@link #openForResume} removes it and
 * every line past the iteration the run resumes from, so the file continues as if never interrupted.
 */
public final class MetricsLog {
    /**
     * The {@code event} of the record a recovery writes (the trainer restored the last good checkpoint with a halved
     * learning rate); the other records are the log intervals and the evaluations, which have no event.
     */
    public static final String RECOVERED = "recovered";
    private static final ObjectMapper JSON = woodflow.io.Json.MAPPER;
    private final Path file;

    private MetricsLog(Path file) {
        this.file = file;
    }

    public static MetricsLog create(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, new byte[0]);
        return new MetricsLog(file);
    }

    /** A log that keeps nothing: the metrics of a data-parallel rank other than 0 (rank 0 writes the run's). */
    public static MetricsLog discarding() {
        return new MetricsLog(null);
    }

    public static MetricsLog openForResume(Path file, long resumeIteration) throws IOException {
        if (!Files.exists(file)) return create(file);
        MetricsLog log = new MetricsLog(file);
        log.truncateAfter(resumeIteration);
        return log;
    }

    /**
     * Drops every record past {@code iteration} (and a torn last line): the run continues from that iteration, as
     * after a resume or a recovery from a checkpoint. The file is rewritten atomically.
     */
    public void truncateAfter(long iteration) throws IOException {
        if (file == null) return;
        StringBuilder b = new StringBuilder();
        for (JsonNode n : read(file)) {
            if (n.path("iteration").asLong() <= iteration) b.append(JSON.writeValueAsString(n)).append('\n');
        }
        woodflow.io.AtomicFiles.writeString(file, b.toString());
    }

    public Path file() {
        return file;
    }

    public ObjectNode newRecord() {
        return JSON.createObjectNode();
    }

    /**
     * Appends one record; a figure that is not finite (the training bpd of an interval whose every step was skipped)
     * is written as {@code null}, so every line is strict JSON.
     */
    public void append(ObjectNode record) throws IOException {
        if (file == null) return;
        List<String> nonFinite = new ArrayList<>();
        record.fields().forEachRemaining(e -> {
            if (e.getValue().isNumber() && !Double.isFinite(e.getValue().asDouble())) nonFinite.add(e.getKey());
        });
        nonFinite.forEach(record::putNull);
        byte[] line = (JSON.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            Files.write(file, line, StandardOpenOption.APPEND, StandardOpenOption.CREATE, StandardOpenOption.SYNC);
        } catch (IOException e) {
            throw new IOException("cannot append to the metrics file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The last test bpd (and its iteration) and training speed of a metrics file; NaN where it has none. */
    public record Last(double testBpd, long testIteration, double imagesPerSecond) {}

    /** The last figures of {@code file} up to {@code iteration} (what a run resumed there has last measured). */
    public static Last last(Path file, long iteration) throws IOException {
        double test = Double.NaN, speed = Double.NaN;
        long at = 0;
        for (JsonNode n : read(file)) {
            if (n.path("iteration").asLong() > iteration) continue;
            if (n.path("test_bpd").isNumber()) {
                test = n.get("test_bpd").asDouble();
                at = n.path("iteration").asLong();
            }
            if (n.path("images_per_s").isNumber()) speed = n.get("images_per_s").asDouble();
        }
        return new Last(test, at, speed);
    }

    /** All complete records of a metrics file (a torn last line is ignored). */
    public static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) return out;
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) continue;
            boolean last = i == lines.length - 1; // no trailing newline: possibly torn
            try {
                out.add(JSON.readTree(l));
            } catch (IOException e) {
                if (!last) throw new IOException("metrics file " + file + " has a corrupt line " + (i + 1));
            }
        }
        return out;
    }
}
