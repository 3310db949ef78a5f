package woodflow.serve;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import woodflow.cli.Main;
import woodflow.train.MetricsLog;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser: trains two tiny run folders, serves them on a free port of 127.0.0.1 and drives
 * Debian's headless Chromium through Selenium. Skipped, with the reason, when chromium or chromedriver is missing
 * ({@code apt-get install chromium chromium-driver}; .ci/run installs them). With {@code -Dwoodflow.screenshots=DIR}
 * it also saves a screenshot of each page there.
 */
class DashboardBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final String TINY = """
            description: tiny dashboard test run
            model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4]}
            data: {kind: embedded, count: 128, holdout: 16, n_bits: 8}
            train: {batch: 8, iterations: 10, eval_every: 5, log_every: 2, seed: SEED}
            """;
    /** A class-conditional run of the shapes, with averaged weights: the sampler's class selector. */
    static final String CONDITIONAL = """
            description: tiny class-conditional dashboard test run
            model: {channels: 3, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4], conditional: class}
            data: {kind: embedded, style: shapes, count: 128, holdout: 16, n_bits: 5}
            train: {batch: 8, iterations: 6, eval_every: 6, log_every: 2, seed: 3, ema: 0.9}
            """;

    @TempDir
    static Path dir;
    static Path root;
    static Dashboard server;
    static WebDriver driver;
    static String base;

    @BeforeAll
    static void trainServeAndOpenTheBrowser() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER), "skipped: the browser test needs "
                + "Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER + "): apt-get install "
                + "chromium chromium-driver");
        root = dir.resolve("runs");
        for (String name : List.of("a", "b", "c")) {
            Path config = dir.resolve(name + ".yaml");
            Files.writeString(config, name.equals("c") ? CONDITIONAL : TINY.replace("SEED", name.equals("a") ? "1" : "2"));
            PrintStream out = System.out;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int code;
            try {
                code = Main.execute("train", "--config", config.toString(), "--out", root.resolve(name).toString(),
                        "--no-report", "--quiet", "--threads", "1");
            } finally {
                System.setOut(out);
            }
            assertThat(code).as(captured.toString(StandardCharsets.UTF_8)).isZero();
        }
        server = new Dashboard(root, "127.0.0.1", 0, 64L << 20).start();
        base = "http://127.0.0.1:" + server.port();
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
    }

    @AfterAll
    static void close() {
        if (driver != null) driver.quit();
        if (server != null) server.close();
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(driver, Duration.ofSeconds(15), Duration.ofMillis(100));
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private static void screenshot(String name) throws Exception {
        String to = System.getProperty("woodflow.screenshots");
        if (to == null) return;
        Files.createDirectories(Path.of(to));
        Files.write(Path.of(to, name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    /** Points a curve should have: one per metrics record with a train or a test bpd. */
    private static long pointsIn(Path metrics) throws Exception {
        return MetricsLog.read(metrics).stream().filter(n -> n.has("train_bpd") || n.has("test_bpd")).count();
    }

    @Test
    void runsTableListsTheRuns() throws Exception {
        driver.get(base + "/");
        WebElement row = waiting().until(d -> d.findElement(By.cssSelector("#runs-table tr[data-run='a']")));
        assertThat(row.getText()).contains("a").contains("finished").contains("10 / 10");
        assertThat(driver.findElements(By.cssSelector("#runs-table tbody tr"))).hasSize(3);
        driver.findElement(By.cssSelector("th[data-key='best_test_bpd']")).click(); // sorts without a failure
        waiting().until(d -> d.findElements(By.cssSelector("#runs-table tbody tr")).size() == 3);
        screenshot("runs");
    }

    @Test
    void curveHasAPointPerMetricsLineAndGrowsWithoutReload() throws Exception {
        Path metrics = root.resolve("b/metrics.jsonl");
        long expected = pointsIn(metrics);
        driver.get(base + "/run?id=b");
        waiting().until(d -> ((Number) js("return window.dash.points")).longValue() == expected);
        js("window.notReloaded = true");
        Files.writeString(metrics, "{\"iteration\":25,\"train_bpd\":3.5,\"images_per_s\":100.0,\"lr\":0.001,"
                + "\"skipped_steps\":0,\"train_seconds\":9.0}\n", StandardOpenOption.APPEND);
        waiting().until(d -> ((Number) js("return window.dash.points")).longValue() == expected + 1);
        assertThat(js("return window.notReloaded === true")).isEqualTo(true);
        assertThat(driver.findElements(By.cssSelector("#curve-iteration canvas"))).isNotEmpty();
        // the learning rate: a point per log line (each carries the rate of its last step)
        long logLines = MetricsLog.read(metrics).stream().filter(n -> n.has("train_bpd")).count();
        assertThat(((Number) js("return window.dash.lrPoints")).longValue()).isEqualTo(logLines);
        assertThat(driver.findElements(By.cssSelector("#curve-lr canvas"))).isNotEmpty();
        screenshot("run");
        // a recovery cuts the file back and appends an event: the page starts over from the shorter file and lists it
        List<String> lines = Files.readAllLines(metrics);
        lines.remove(lines.size() - 1);
        lines.add("{\"iteration\":10,\"event\":\"recovered\",\"restored\":\"ckpt-00000010.safetensors\","
                + "\"lr\":5.0E-4,\"skipped_steps\":3}");
        woodflow.io.AtomicFiles.writeString(metrics, String.join("\n", lines) + "\n");
        waiting().until(d -> ((Number) js("return window.dash.points")).longValue() == expected);
        WebElement event = waiting().until(d -> d.findElement(By.cssSelector("#events li")));
        assertThat(event.getText()).contains("iteration 10: recovered from ckpt-00000010.safetensors");
        assertThat(js("return window.notReloaded === true")).isEqualTo(true);
    }

    @Test
    void evaluationsOfTheRunAreListedWithTheirBound() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.execute("eval", "--checkpoint", root.resolve("a").toString(), "--samples", "3", "--threads", "1");
        } finally {
            System.setOut(out);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        assertThat(code).as(printed).isZero();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("3-sample bound (\\d+\\.\\d{4}) bpd").matcher(printed);
        assertThat(m.find()).as(printed).isTrue();
        driver.get(base + "/run?id=a");
        WebElement table = waiting().until(d -> d.findElement(By.cssSelector("#evaluations table")));
        assertThat(table.getText()).contains("K-sample bound").contains("uniform").contains(m.group(1))
                .contains("best.safetensors");
        screenshot("run-evaluations");
    }

    @Test
    void movingTheTemperatureSliderReturnsADifferentImage() throws Exception {
        driver.get(base + "/sampler?id=a");
        waiting().until(d -> ((Number) js("return window.dash.sampleCount")).intValue() >= 1);
        String first = (String) js("return window.dash.sampleDigest");
        WebElement slider = driver.findElement(By.id("temperature"));
        slider.sendKeys(Keys.END); // to 1.2, as a person's keyboard or drag would
        waiting().until(d -> !first.equals(js("return window.dash.sampleDigest")));
        assertThat(driver.findElement(By.id("temperature-value")).getText()).isEqualTo("1.20");
        assertThat(driver.findElement(By.id("sample-status")).getText()).contains("temperature 1.20");
        // the precision starts at this CPU's default (bf16-mixed where its bf16 kernels are native) and can be changed
        org.openqa.selenium.support.ui.Select precision =
                new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("precision")));
        String shown = precision.getFirstSelectedOption().getAttribute("value");
        assertThat(shown).isEqualTo(woodflow.nn.Bf16Kernels.current() == woodflow.nn.Bf16Kernels.NATIVE
                ? "bf16-mixed" : "fp32");
        waiting().until(d -> d.findElement(By.id("sample-status")).getText().contains(", " + shown + " ("));
        String other = shown.equals("fp32") ? "bf16-mixed" : "fp32";
        precision.selectByValue(other);
        waiting().until(d -> d.findElement(By.id("sample-status")).getText().contains(", " + other + " ("));
        screenshot("sampler");
    }

    @Test
    void aClassConditionalRunSamplesTheChosenClassAndInterpolates() throws Exception {
        driver.get(base + "/sampler?id=c");
        waiting().until(d -> ((Number) js("return window.dash.sampleCount")).intValue() >= 1);
        WebElement klass = driver.findElement(By.id("class"));
        assertThat(klass.findElements(By.tagName("option")).stream().map(WebElement::getText).toList())
                .containsExactly("a row per class", "disc", "square", "ring");
        assertThat(driver.findElement(By.id("sample-status")).getText()).contains("a row per class (disc, square, ring)");
        String rows = (String) js("return window.dash.sampleDigest");
        new org.openqa.selenium.support.ui.Select(klass).selectByValue("ring");
        waiting().until(d -> !rows.equals(js("return window.dash.sampleDigest")));
        assertThat(driver.findElement(By.id("sample-status")).getText()).contains("class ring");
        driver.findElement(By.id("interpolate")).click();
        waiting().until(d -> js("return window.dash.interpolations") != null);
        assertThat(driver.findElement(By.id("interpolation")).isDisplayed()).isTrue();
        screenshot("sampler-conditional");
        // an unconditional run has no class selector, and interpolates too; a test image that does not exist is named
        driver.get(base + "/sampler?id=a");
        waiting().until(d -> ((Number) js("return window.dash.sampleCount")).intValue() >= 1);
        assertThat(driver.findElements(By.id("class"))).isEmpty();
        WebElement b = driver.findElement(By.id("interp-b"));
        b.clear();
        b.sendKeys("999");
        driver.findElement(By.id("interpolate")).click();
        WebElement status = waiting().until(d -> d.findElement(By.cssSelector("#interp-status .error")));
        assertThat(status.getText()).contains("test image 999 does not exist").doesNotContain("Exception");
        b.clear();
        b.sendKeys("3");
        new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("interp-mode"))).selectByValue("both");
        driver.findElement(By.id("interpolate")).click();
        waiting().until(d -> js("return window.dash.interpolations") != null);
        assertThat(driver.findElement(By.id("interpolation")).isDisplayed()).isTrue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void comparePageOverlaysTwoRunsAndItsLinkKeepsTheSelection() throws Exception {
        driver.get(base + "/compare?runs=a,b");
        waiting().until(d -> ((Number) js("return window.dash.series.length")).intValue() == 4);
        assertThat((List<Object>) js("return window.dash.series")).containsExactly("a test", "a train", "b test", "b train");
        assertThat(driver.findElements(By.cssSelector("#compare-chart canvas"))).hasSize(1);
        assertThat(driver.findElement(By.id("compare-link")).getAttribute("href")).endsWith("/compare?runs=a,b");
        assertThat(driver.findElements(By.cssSelector("#compare-table tr"))).hasSize(3);
        screenshot("compare");
        driver.findElement(By.cssSelector("input[type=checkbox][value=b]")).click();
        waiting().until(d -> ((Number) js("return window.dash.series.length")).intValue() == 2);
        assertThat(driver.getCurrentUrl()).endsWith("/compare?runs=a");
    }

    @Test
    void scoringShowsTheBpdOrSaysWhyNot() throws Exception {
        driver.get(base + "/score?id=a");
        Path bad = Files.writeString(dir.resolve("not-an-image.png"), "this is text");
        WebElement input = waiting().until(d -> d.findElement(By.id("image-file")));
        input.sendKeys(bad.toString());
        WebElement error = waiting().until(d -> d.findElement(By.id("score-error")));
        assertThat(error.getText()).contains("not a readable image").doesNotContain("Exception").doesNotContain("at woodflow");
        Path good = root.resolve("a/samples").toFile().listFiles()[0].toPath();
        driver.findElement(By.id("image-file")).sendKeys(good.toString());
        WebElement bpd = waiting().until(d -> d.findElement(By.id("score-bpd")));
        assertThat(bpd.getText()).matches("\\d+\\.\\d{4} bpd");
        waiting().until(d -> !d.findElements(By.cssSelector("#histogram canvas")).isEmpty());
        screenshot("score");
    }

    @Test
    void pathsOutsideRootAreRefused() throws Exception {
        driver.get(base + "/api/file?path=../../etc/passwd");
        assertThat(driver.getPageSource()).contains("refused").doesNotContain("root:x:0");
        HttpClient http = HttpClient.newHttpClient();
        for (String path : List.of("/api/file?path=../../etc/passwd", "/api/file?path=%2e%2e/%2e%2e/etc/passwd",
                "/api/file?path=/etc/passwd", "/api/file?path=a/../../../etc/passwd", "/api/run?id=../..",
                "/api/metrics?id=../../etc", "/api/sample?id=a&checkpoint=../../../etc/passwd")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(403);
            assertThat(r.body()).as(path).doesNotContain("root:x:0");
        }
        // DNS rebinding: a request that names another host is refused by a dashboard bound to loopback
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write("GET /api/runs HTTP/1.1\r\nHost: rebound.example:80\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            assertThat(status).contains(" 403");
        }
        HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(base + "/api/file?path=a/config.yaml"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("tiny dashboard test run");
    }
}
