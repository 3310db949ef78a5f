package woodflow.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import woodflow.io.Html;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@code woodflow serve}: a read-only web dashboard over the run folders under ROOT, on the JDK's HTTP server.
 * <pre>
 *   /                 runs table              /api/runs                      every run's row
 *   /run?id=RUN       curves, config, files   /api/run?id=RUN                config, checkpoints, samples
 *   /sampler?id=RUN   samples at T, seed      /api/metrics?id=RUN&amp;since=N&amp;version=V  records from line N
 *   /compare?runs=A,B overlaid curves         /api/sample?id=&amp;checkpoint=&amp;temperature=&amp;seed=&amp;count=&amp;precision=  PNG
 *   /score?id=RUN     bpd of a dropped image  /api/reconstructions, /api/test-bpd, POST /api/score, /api/file?path=
 *                                             /api/sample also takes class=NAME (a class-conditional model)
 *                                             /api/interpolate?id=&amp;checkpoint=&amp;a=&amp;b=&amp;steps=&amp;mode=  PNG strip
 * </pre>
 * It never writes into ROOT and never takes a run's lock ({@link LockProbe}); pages poll for new metrics lines. Chart
 * drawing is uPlot's, served from its WebJar in the jar, so the pages work without internet.
 */
public final class Dashboard implements AutoCloseable {
    /** Requests that wait for the model worker behind the one it runs (README: four; more are told "busy"). */
    static final int QUEUE = 4;
    /** Threads answering requests: enough that the worker's queue, not the thread count, limits model requests. */
    static final int HTTP_THREADS = 16;
    /** The most characters of a request's own text (a path, a run id) that an error message repeats. */
    static final int ECHO = 80;

    /** The largest upload for scoring. */
    public static final int MAX_UPLOAD = 8 << 20;
    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static final Map<String, String> STATIC = Map.of(
            "/static/uplot.js", UPLOT + "uPlot.iife.min.js",
            "/static/uplot.css", UPLOT + "uPlot.min.css",
            "/static/dashboard.js", "woodflow/serve/dashboard.js",
            "/static/dashboard.css", "woodflow/serve/dashboard.css");

    /** The dashboard's pages: each is the one page template ({@code dashboard.mustache}) with its name and title. */
    enum Page {
        RUNS("/", "Runs"), RUN("/run", "Run"), SAMPLER("/sampler", "Sampler"), COMPARE("/compare", "Compare"),
        SCORE("/score", "Score");

        final String path;
        private final String title;

        Page(String path, String title) {
            this.path = path;
            this.title = title;
        }

        /** The page's HTML: the shared head (the dashboard's stylesheets and scripts), its name for dashboard.js. */
        byte[] html() {
            Map<String, Object> scope = new HashMap<>();
            scope.put("title", "woodflow · " + title);
            scope.put("page", name().toLowerCase(Locale.ROOT));
            scope.put("stylesheets", List.of("/static/uplot.css", "/static/dashboard.css"));
            scope.put("scripts", List.of(Map.of("src", "/static/uplot.js"),
                    Map.of("src", "/static/dashboard.js", "deferred", true)));
            return Html.render("dashboard.mustache", scope).getBytes(StandardCharsets.UTF_8);
        }
    }

    /** What answers a GET (or HEAD) of one path. */
    @FunctionalInterface
    private interface Route {
        void answer(HttpExchange ex, Map<String, String> query) throws Exception;
    }

    private final RunFolders runs;
    private final ModelWorker worker;
    private final Map<String, Route> routes = new HashMap<>();
    private final HttpServer server;
    private final ExecutorService threads;
    private final boolean loopbackOnly;

    /**
     * Serves ROOT on host:port (port 0 picks a free one); {@code cacheBytes} bounds the parameters of the models kept
     * in memory for sampling.
     */
    public Dashboard(Path root, String host, int port, long cacheBytes) throws IOException {
        javax.imageio.ImageIO.setUseCache(false); // PNGs are made in memory: no temporary files anywhere
        this.runs = new RunFolders(root);
        this.loopbackOnly = java.net.InetAddress.getByName(host).isLoopbackAddress();
        this.worker = new ModelWorker(cacheBytes, QUEUE);
        this.server = HttpServer.create(new InetSocketAddress(host, port), 32);
        // more request threads than the model worker takes requests (one running, QUEUE waiting), so that a request
        // past those finds the worker's queue full and is told "busy" at once, instead of waiting unseen in the HTTP
        // server's own queue for a thread; idle threads end after a while
        ThreadPoolExecutor pool = new ThreadPoolExecutor(HTTP_THREADS, HTTP_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "woodflow-serve-http");
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        this.threads = pool;
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        for (Page p : Page.values()) {
            byte[] html = p.html();
            routes.put(p.path, (ex, q) -> send(ex, 200, "text/html; charset=utf-8", html));
        }
        STATIC.forEach((path, r) -> routes.put(path, (ex, q) -> resource(ex, r, r.endsWith(".js")
                ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8")));
        routes.put("/api/runs", (ex, q) -> {
            ArrayNode a = RunFolders.JSON.createArrayNode();
            for (Path d : runs.list()) a.add(runs.info(d));
            json(ex, a);
        });
        routes.put("/api/run", (ex, q) -> {
            ObjectNode details = runs.details(runs.run(q.get("id")));
            // what the sampler offers and starts from on this CPU
            details.put("sample_precision", ModelWorker.defaultPrecision().toString());
            details.put("bf16_kernels", woodflow.nn.Bf16Kernels.current().describe());
            json(ex, details);
        });
        routes.put("/api/metrics", this::metrics);
        routes.put("/api/file", (ex, q) -> file(ex, runs.file(q.get("path"))));
        routes.put("/api/sample", this::sample);
        routes.put("/api/interpolate", (ex, q) -> {
            String mode = q.get("mode");
            send(ex, 200, "image/png", worker.interpolation(runs.checkpoint(runs.run(q.get("id")),
                    q.get("checkpoint")), (int) number(q, "a", 0), (int) number(q, "b", 1), (int) number(q, "steps", 8),
                    mode == null ? woodflow.sample.Interpolation.Mode.LINEAR
                            : woodflow.sample.Interpolation.Mode.parse(mode)));
        });
        routes.put("/api/reconstructions", (ex, q) -> send(ex, 200, "image/png",
                worker.reconstructions(runs.checkpoint(runs.run(q.get("id")), q.get("checkpoint")))));
        routes.put("/api/test-bpd", (ex, q) -> {
            ObjectNode o = RunFolders.JSON.createObjectNode();
            putArray(o, "test_bpd", worker.testBitsPerDim(runs.checkpoint(runs.run(q.get("id")),
                    q.get("checkpoint"))));
            json(ex, o);
        });
    }

    /** The model worker (for tests). */
    ModelWorker worker() {
        return worker;
    }

    public Dashboard start() {
        server.start();
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public Path root() {
        return runs.root();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
        worker.close();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getPath();
            Map<String, String> q = query(ex);
            String method = ex.getRequestMethod();
            if (loopbackOnly && !localHostHeader(ex.getRequestHeaders().getFirst("Host"))) {
                // a page elsewhere that re-points its own name at 127.0.0.1 (DNS rebinding) must not read the runs
                error(ex, 403, "this dashboard answers only to 127.0.0.1, localhost or [::1]");
                return;
            }
            if (path.equals("/api/score")) {
                if (!method.equals("POST")) {
                    error(ex, 405, "POST the image bytes to /api/score");
                } else {
                    score(ex, q);
                }
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                error(ex, 405, method + " is not supported here");
                return;
            }
            Route route = routes.get(path);
            if (route == null) {
                error(ex, 404, "no page " + echo(path) + " here; the runs are at /");
            } else {
                route.answer(ex, q);
            }
        } catch (RunFolders.Refused e) {
            error(ex, e.status, e.getMessage());
        } catch (ModelWorker.Busy e) {
            error(ex, 503, e.getMessage());
        } catch (IllegalArgumentException | woodflow.data.DataException e) {
            error(ex, 400, e.getMessage());
        } catch (Exception | Error e) {
            // the page shows one line; the console gets the class for whoever runs the server
            System.err.println("woodflow serve: " + echo(ex.getRequestURI().toString()) + ": " + e);
            error(ex, 500, reason(e));
        } finally {
            ex.close(); // after the catch clauses, which still answer on this exchange
        }
    }

    private static boolean localHostHeader(String host) {
        if (host == null) return true; // HTTP/1.0
        String name = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1)
                : host.contains(":") ? host.substring(0, host.indexOf(':')) : host;
        return name.equals("127.0.0.1") || name.equalsIgnoreCase("localhost") || name.equals("[::1]");
    }

    private void sample(HttpExchange ex, Map<String, String> q) throws Exception {
        Path ckpt = runs.checkpoint(runs.run(q.get("id")), q.get("checkpoint"));
        long t0 = System.nanoTime();
        String p = q.get("precision");
        woodflow.core.Precision precision = p == null || p.isBlank() ? ModelWorker.defaultPrecision()
                : woodflow.core.Precision.parse(p);
        byte[] png = worker.samples(ckpt, number(q, "temperature", 0.7), (long) number(q, "seed", 0),
                (int) number(q, "count", 16), q.get("class"), precision);
        ex.getResponseHeaders().set("X-Woodflow-Precision", precision.toString());
        // the time in the server, queue and model loading included (the browser's own clock may be virtual)
        ex.getResponseHeaders().set("X-Woodflow-Milliseconds", Long.toString((System.nanoTime() - t0) / 1_000_000));
        send(ex, 200, "image/png", png);
    }

    private void metrics(HttpExchange ex, Map<String, String> q) throws IOException {
        Path dir = runs.run(q.get("id"));
        RunFolders.Metrics m = runs.metricsWithVersion(dir);
        List<JsonNode> records = m.records();
        int since = (int) number(q, "since", 0);
        ObjectNode o = RunFolders.JSON.createObjectNode();
        o.put("total", records.size());
        o.put("version", m.version());
        // another file, or fewer lines than the page has: the trainer recovered or resumed and cut the file back, so
        // the page starts over with all of it
        String version = q.get("version");
        boolean reset = since > records.size() || since < 0 || version != null && !version.equals(m.version());
        o.put("reset", reset);
        ArrayNode a = o.putArray("records");
        for (JsonNode r : records.subList(reset ? 0 : since, records.size())) a.add(r);
        o.set("run", runs.info(dir));
        json(ex, o);
    }

    private void score(HttpExchange ex, Map<String, String> q) throws Exception {
        Path ckpt = runs.checkpoint(runs.run(q.get("id")), q.get("checkpoint"));
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null && Long.parseLong(length.strip()) > MAX_UPLOAD) {
            error(ex, 413, "the image is larger than " + (MAX_UPLOAD >> 20) + " MB");
            return;
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(MAX_UPLOAD + 1);
        }
        if (body.length > MAX_UPLOAD) {
            error(ex, 413, "the image is larger than " + (MAX_UPLOAD >> 20) + " MB");
            return;
        }
        if (body.length == 0) throw new IllegalArgumentException("no image received");
        ModelWorker.Score s = worker.score(ckpt, body);
        ObjectNode o = RunFolders.JSON.createObjectNode();
        o.put("bpd", s.bpd());
        if (s.likeliestClass() != null) o.put("likeliest_class", s.likeliestClass());
        o.put("image", "data:image/png;base64," + Base64.getEncoder().encodeToString(s.resizedPng()));
        putArray(o, "test_bpd", s.testBpd());
        json(ex, o);
    }

    private static void putArray(ObjectNode o, String key, double[] values) {
        ArrayNode a = o.putArray(key);
        for (double v : values) a.add(v);
    }

    private static String reason(Throwable e) {
        return woodflow.core.Reasons.of(e);
    }

    private static double number(Map<String, String> q, String key, double fallback) {
        String v = q.get(key);
        if (v == null || v.isBlank()) return fallback;
        try {
            double d = Double.parseDouble(v);
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + echo(v) + "'");
        }
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> out = new HashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) return out;
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    private void resource(HttpExchange ex, String name, String type) throws IOException {
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                error(ex, 500, "the jar lacks " + name);
                return;
            }
            send(ex, 200, type, in.readAllBytes());
        }
    }

    private void file(HttpExchange ex, Path p) throws IOException {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        String type = n.endsWith(".png") ? "image/png" : n.endsWith(".html") ? "text/html; charset=utf-8"
                : n.endsWith(".json") || n.endsWith(".jsonl") ? "application/json"
                : n.endsWith(".yaml") || n.endsWith(".txt") || n.endsWith(".csv") || n.endsWith(".md")
                ? "text/plain; charset=utf-8" : "application/octet-stream";
        if (type.equals("application/octet-stream")) {
            ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + p.getFileName() + "\"");
        }
        send(ex, 200, type, Files.readAllBytes(p));
    }

    private static void json(HttpExchange ex, JsonNode body) throws IOException {
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        send(ex, 200, "application/json", RunFolders.JSON.writeValueAsBytes(body));
    }

    /** A request's own text in a message: at most {@link #ECHO} characters, and how long it was when cut. */
    static String echo(String text) {
        if (text == null || text.length() <= ECHO) return text;
        return text.substring(0, ECHO) + "... (" + text.length() + " characters)";
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        ObjectNode o = RunFolders.JSON.createObjectNode().put("error", message);
        send(ex, status, "application/json", RunFolders.JSON.writeValueAsBytes(o));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        var h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("X-Content-Type-Options", "nosniff");
        if (type.startsWith("text/html")) {
            h.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; "
                    + "style-src 'self' 'unsafe-inline'");
        }
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
