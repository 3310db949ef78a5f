package woodflow.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.cli.Main;
import woodflow.io.Json;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard keeps the command line's rules and its own promises (issue 31): the temperatures {@code sample}
 * takes (T = 0 refused), four requests queued behind the running one and "busy" (503) for more, a request path echoed
 * only in part, and every error under /api/ a JSON object. Over real HTTP on 127.0.0.1, a free port.
 */
class DashboardPromisesTest {
    @TempDir
    static Path root;
    static Dashboard dashboard;
    static HttpClient http;

    @BeforeAll
    static void trainAndServe() throws Exception {
        Path config = Files.writeString(root.resolve("tiny.yaml"), DashboardBrowserTest.TINY.replace("SEED", "5"));
        PrintStream out = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.execute("train", "--config", config.toString(), "--out", root.resolve("runs/a").toString(),
                    "--no-report", "--quiet", "--threads", "1")).isZero();
        } finally {
            System.setOut(out);
        }
        dashboard = new Dashboard(root.resolve("runs"), "127.0.0.1", 0, 1L << 30).start();
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @AfterAll
    static void close() {
        if (dashboard != null) dashboard.close();
    }

    static HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String sample(double t) {
        return "/api/sample?id=a&checkpoint=best.safetensors&count=4&seed=1&temperature=" + t;
    }

    static JsonNode jsonError(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode n = Json.MAPPER.readTree(r.body());
        assertThat(n.path("error").isTextual()).as(r.body()).isTrue();
        return n;
    }

    @Test
    void theSamplerTakesTheTemperaturesSampleTakes() throws Exception {
        for (double t : new double[] {0, -0.5, 10.5}) {
            String reason = jsonError(get(sample(t)), 400).get("error").asText();
            woodflow.model.Temperature.COMMAND_LINE.check(0.7); // the same check as `woodflow sample`
            String cli = catchMessage(() -> woodflow.model.Temperature.COMMAND_LINE.check(t));
            assertThat(reason).isEqualTo(cli);
        }
        for (double t : new double[] {0.05, 1.0, 2.5}) {
            HttpResponse<String> ok = get(sample(t));
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(ok.headers().firstValue("Content-Type")).hasValue("image/png");
        }
    }

    static String catchMessage(Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("no refusal");
    }

    @Test
    void fourRequestsQueueAndMoreAreToldBusy() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        dashboard.worker().holdJobs(hold);
        try {
            List<CompletableFuture<HttpResponse<String>>> requests = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                requests.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port()
                        + sample(0.7).replace("seed=1", "seed=" + i))).timeout(Duration.ofSeconds(120)).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            // one runs (held), four wait: the other fifteen are refused at once
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (requests.stream().filter(CompletableFuture::isDone).count() < 15 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<HttpResponse<String>> refused = new ArrayList<>();
            for (var r : requests) if (r.isDone()) refused.add(r.get());
            assertThat(refused).hasSize(15);
            for (var r : refused) {
                assertThat(jsonError(r, 503).get("error").asText()).contains("busy (4 requests waiting); try again");
            }
            assertThat(dashboard.worker().waiting()).isEqualTo(4);
        } finally {
            hold.countDown();
            dashboard.worker().holdJobs(null);
        }
    }

    @Test
    void aLongRequestPathIsEchoedOnlyInPart() throws Exception {
        String longPath = "/" + "a".repeat(100_000);
        HttpResponse<String> r = get(longPath);
        JsonNode n = jsonError(r, 404);
        assertThat(r.body().length()).isLessThan(600);
        assertThat(n.get("error").asText()).startsWith("no page /aaaa").contains("(100001 characters)");
        HttpResponse<String> run = get("/api/run?id=" + "b".repeat(50_000));
        assertThat(run.body().length()).isLessThan(600);
        jsonError(run, 404);
    }

    @Test
    void everyErrorUnderApiIsJson() throws Exception {
        jsonError(get("/api/nothing-here"), 404);
        jsonError(get("/api/sample?id=a&checkpoint=best.safetensors&temperature=warm"), 400);
        jsonError(get("/api/sample?id=a&checkpoint=../../etc/passwd"), 403);
        jsonError(get("/api/file?path=../x"), 403);
        jsonError(get("/api/metrics?id=none"), 404);
        jsonError(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + "/api/sample"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()), 405);
        jsonError(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port()
                        + "/api/score?id=a&checkpoint=best.safetensors")).POST(HttpRequest.BodyPublishers.ofString(""))
                .build(), HttpResponse.BodyHandlers.ofString()), 400);
    }

    @Test
    void anUploadToScoreIsNeverWritten() throws Exception {
        List<String> before = files();
        byte[] png = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port() + sample(0.7)))
                .build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + dashboard.port()
                + "/api/score?id=a&checkpoint=best.safetensors")).POST(HttpRequest.BodyPublishers.ofByteArray(png))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(files()).isEqualTo(before);
    }

    static List<String> files() throws Exception {
        try (var s = Files.walk(root)) {
            return s.map(p -> p + " " + p.toFile().length() + " " + p.toFile().lastModified()).sorted().toList();
        }
    }
}
