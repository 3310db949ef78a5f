package woodflow.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import woodflow.model.ModelConfig;
import woodflow.train.CheckpointStore;
import woodflow.train.EvalLog;
import woodflow.train.MetricsLog;
import woodflow.train.RunConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The run folders under the dashboard's ROOT, read-only: finds them, resolves names that come from a browser to
 * paths that stay under ROOT (anything else is refused), and reads each run's config, metrics, summary and lock.
 */
final class RunFolders {
    static final ObjectMapper JSON = woodflow.io.Json.MAPPER;
    private static final Pattern CHECKPOINT = Pattern.compile("(best|ckpt-\\d+)\\.safetensors");
    /** The newest evaluations shown on a run's page. */
    private static final int MAX_EVALUATIONS = 20;
    /** How deep under ROOT run folders are looked for (compare and ablate studies nest theirs). */
    private static final int DEPTH = 4;

    /** A browser asked for something outside ROOT, or for a name that is not allowed. */
    static final class Refused extends RuntimeException {
        /**
         * 400 for a missing parameter, 403 for a path outside ROOT or a name that is not allowed, 404 for one that does
         * not exist.
         */
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final Path root;
    private final Path realRoot;
    private final Map<Path, Cached> metricsCache = new ConcurrentHashMap<>();

    private record Cached(long modified, long size, String version, List<JsonNode> records) {}

    /** A run's metrics records and the identity of the file that held them. */
    record Metrics(List<JsonNode> records, String version) {}

    RunFolders(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("ROOT " + root + " is not a folder: give the folder that holds the run "
                    + "folders (default runs/), e.g. woodflow serve runs/");
        }
        this.root = root.toAbsolutePath().normalize();
        this.realRoot = root.toRealPath();
    }

    Path root() {
        return root;
    }

    /** Every run folder under ROOT (a folder with a metrics.jsonl or a config.yaml), ROOT itself included. */
    List<Path> list() throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root, DEPTH)) {
            s.filter(Files::isDirectory)
                    .filter(d -> Files.isRegularFile(d.resolve("metrics.jsonl")) || Files.isRegularFile(d.resolve("config.yaml")))
                    .forEach(out::add);
        } catch (java.io.UncheckedIOException e) {
            // a folder vanished while walking (e.g. a study cleaning up): list what was seen
        }
        out.sort(null);
        return out;
    }

    String idOf(Path runDir) {
        String id = root.relativize(runDir).toString().replace('\\', '/');
        return id.isEmpty() ? "." : id;
    }

    /** A run folder named by the browser: a path relative to ROOT that stays under it. */
    Path run(String id) {
        if (id == null) {
            throw new Refused(400, "the id parameter is missing: add id=RUN (a run folder under ROOT) to the request");
        }
        Path dir = under(id == null ? null : id.equals(".") ? "" : id);
        if (!Files.isRegularFile(dir.resolve("metrics.jsonl")) && !Files.isRegularFile(dir.resolve("config.yaml"))) {
            throw new Refused(404, "no run folder '" + Dashboard.echo(id) + "' under " + root);
        }
        return dir;
    }

    /** A regular file under ROOT named by the browser, e.g. {@code demo/samples/iter-00000250-t0.7.png}. */
    Path file(String relative) {
        Path p = under(relative);
        if (!Files.isRegularFile(p)) throw new Refused(404, "no file '" + Dashboard.echo(relative) + "' under " + root);
        return p;
    }

    /** A checkpoint of a run by its file name ({@code best.safetensors} or {@code ckpt-N.safetensors}). */
    Path checkpoint(Path runDir, String name) {
        if (name == null || name.isBlank()) {
            throw new Refused(400, "the checkpoint parameter is missing: add checkpoint=best.safetensors (or "
                    + "ckpt-N.safetensors, one of the run's checkpoints) to the request");
        }
        if (!CHECKPOINT.matcher(name).matches()) {
            throw new Refused(403, "'" + Dashboard.echo(name) + "' is not a checkpoint name (best.safetensors or ckpt-N.safetensors)");
        }
        Path p = under(idOf(runDir) + "/checkpoints/" + name);
        if (!Files.isRegularFile(p)) throw new Refused(404, "run " + idOf(runDir) + " has no checkpoint " + name);
        return p;
    }

    /** Resolves a relative path, refusing absolute paths, {@code ..} that leaves ROOT, and symbolic links out of it. */
    private Path under(String relative) {
        if (relative == null) throw new Refused(403, "a path under ROOT is required");
        if (relative.indexOf('\0') >= 0 || relative.startsWith("/") || relative.startsWith("\\")) {
            throw new Refused(403, "refused: '" + Dashboard.echo(relative) + "' is not a path under ROOT");
        }
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root)) throw new Refused(403, "refused: '" + Dashboard.echo(relative) + "' is outside ROOT");
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (!p.toRealPath().startsWith(realRoot)) throw new Refused(403, "refused: '" + Dashboard.echo(relative) + "' leads outside ROOT");
            } catch (IOException e) {
                throw new Refused(404, "cannot read '" + Dashboard.echo(relative) + "'");
            }
        }
        return p;
    }

    /** All complete metrics records of a run, re-read only when the file changed. */
    List<JsonNode> metrics(Path runDir) throws IOException {
        return metricsWithVersion(runDir).records();
    }

    /**
     * The metrics records and the file's version: the trainer appends to {@code metrics.jsonl} in place, and
     * rewrites it (a new file renamed over the old one, so a new file key) when a recovery or a resume cuts it back;
     * a page that sees another version starts over.
     */
    Metrics metricsWithVersion(Path runDir) throws IOException {
        Path f = runDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(f)) return new Metrics(List.of(), "none");
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        long modified = a.lastModifiedTime().toMillis();
        String version = String.valueOf(a.fileKey() != null ? a.fileKey() : a.creationTime()).replaceAll("\\W", "");
        Cached c = metricsCache.get(f);
        if (c != null && c.modified == modified && c.size == a.size() && c.version.equals(version)) {
            return new Metrics(c.records, version);
        }
        List<JsonNode> records = List.copyOf(MetricsLog.read(f));
        metricsCache.put(f, new Cached(modified, a.size(), version, records));
        return new Metrics(records, version);
    }

    /** The row of the runs table (and the head of the run page). */
    ObjectNode info(Path runDir) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", idOf(runDir));
        JsonNode summary = readJson(runDir.resolve("summary.json"));
        RunStatus status = RunStatus.of(LockProbe.probe(runDir), summary.path("status").asText(null));
        o.put("status", status.label);
        if (summary.has("error")) o.put("error", summary.get("error").asText());
        try {
            RunConfig cfg = RunConfig.read(runDir.resolve("config.yaml"));
            ModelConfig m = cfg.model();
            o.put("description", cfg.description());
            o.put("model", m.permutation() + " " + m.coupling() + ", L=" + m.levels() + " K=" + m.steps() + ", "
                    + m.channels() + "x" + m.height() + "x" + m.width());
            o.put("total_iterations", cfg.train().iterations());
            o.put("precision", cfg.train().precision().label());
        } catch (RuntimeException e) {
            o.put("config_error", e.getMessage());
        }
        try {
            List<JsonNode> records = metrics(runDir);
            double latestTest = Double.NaN, best = Double.NaN, imagesPerS = Double.NaN;
            long iteration = 0, skipped = 0;
            for (JsonNode r : records) {
                iteration = Math.max(iteration, r.path("iteration").asLong());
                if (r.has("test_bpd") && r.get("test_bpd").isNumber()) {
                    latestTest = r.get("test_bpd").asDouble();
                    if (Double.isFinite(latestTest) && !(latestTest >= best)) best = latestTest;
                }
                if (r.path("images_per_s").isNumber()) imagesPerS = r.get("images_per_s").asDouble();
                if (r.has("skipped_steps")) skipped = r.get("skipped_steps").asLong();
            }
            o.put("iterations", iteration);
            putNumber(o, "test_bpd", latestTest);
            putNumber(o, "best_test_bpd", best);
            putNumber(o, "images_per_s", imagesPerS);
            o.put("skipped_steps", skipped);
            o.put("metrics_lines", records.size());
        } catch (IOException e) {
            o.put("metrics_error", e.getMessage());
        }
        o.put("started", started(runDir));
        if (summary.has("parameters")) o.put("parameters", summary.get("parameters").asLong());
        return o;
    }

    /** The run's files: config text, checkpoints, sample grids, report. */
    ObjectNode details(Path runDir) throws IOException {
        ObjectNode o = info(runDir);
        Path config = runDir.resolve("config.yaml");
        o.put("config", Files.isRegularFile(config) ? Files.readString(config) : "");
        // the classes of a class-conditional model, for the sampler's class selector
        ArrayNode classes = o.putArray("classes");
        if (Files.isRegularFile(config)) {
            try {
                var m = RunConfig.read(config).model();
                if (m.classConditional() && m.classes() != null) m.classes().forEach(classes::add);
            } catch (RuntimeException e) {
                // an unreadable config shows as text; it has no classes to offer
            }
        }
        ArrayNode ckpts = o.putArray("checkpoints");
        CheckpointStore store = new CheckpointStore(runDir, 1);
        List<Path> files = new ArrayList<>();
        if (Files.isRegularFile(store.best())) files.add(store.best());
        files.addAll(store.list());
        for (Path p : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                ckpts.addObject().put("name", p.getFileName().toString()).put("bytes", a.size())
                        .put("modified", a.lastModifiedTime().toMillis());
            } catch (IOException e) {
                // pruned by the trainer meanwhile
            }
        }
        ArrayNode samples = o.putArray("samples");
        Path dir = runDir.resolve("samples");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".png")).sorted()
                        .forEach(p -> samples.add(idOf(runDir) + "/samples/" + p.getFileName()));
            }
        }
        if (Files.isRegularFile(runDir.resolve("report.html"))) o.put("report", idOf(runDir) + "/report.html");
        // what `woodflow eval` recorded (one-sample figures and K-sample bounds), newest first
        ArrayNode evals = o.putArray("evaluations");
        List<JsonNode> recorded = EvalLog.read(runDir);
        for (int i = recorded.size() - 1; i >= Math.max(0, recorded.size() - MAX_EVALUATIONS); i--) evals.add(recorded.get(i));
        return o;
    }

    /** When the latest training session started: the trainer rewrites run.lock (then config.yaml) as it starts. */
    private static long started(Path runDir) {
        for (String name : List.of("run.lock", "config.yaml")) {
            try {
                return Files.getLastModifiedTime(runDir.resolve(name)).toMillis();
            } catch (IOException e) {
                // try the next
            }
        }
        return 0;
    }

    private static JsonNode readJson(Path file) {
        try {
            return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
        } catch (IOException e) {
            return JSON.createObjectNode(); // being replaced atomically, or damaged: the metrics still tell the story
        }
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }
}
