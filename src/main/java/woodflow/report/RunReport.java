package woodflow.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.NumericalException;
import woodflow.data.DataInspect;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.io.AtomicFiles;
import woodflow.io.Html;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.picture.ImageGrid;
import woodflow.picture.Plots;
import woodflow.quality.ClassRecognisability;
import woodflow.quality.Recognisability;
import woodflow.quality.ShapeClassifier;
import woodflow.sample.Sampler;
import woodflow.train.MetricsLog;
import woodflow.train.RunConfig;
import woodflow.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The page a person looks at after a run: {@code report.html} in the run folder, self-contained (images embedded),
 * titled with what ran; when and by which woodflow and command line it was written; a warning when steps were
 * skipped; the learning curves (every log line and evaluation); real training images beside the sample grids at
 * each temperature; on the labelled embedded shapes, how many of the T = 0.7 samples a shape classifier recognises
 * ({@link Recognisability}); a labelled temperature sweep; reconstructions of test images; the config; links to the
 * run's files. The PNGs are also written to the run folder. The page is the template {@code run-report.mustache}
 * ({@link Html}); this class measures and draws what it shows.
 */
public final class RunReport {
    /** Sample grids in the report are side by side: tiles at least this many pixels high. */
    private static final int TILE_PIXELS = 32;
    private static final ImageGrid.Labels NO_LABELS = new ImageGrid.Labels("", List.of(), List.of());

    private RunReport() {}

    /**
     * What {@link #write} made: the page, the recognisability of the T = 0.7 samples, and for a class-conditional
     * model of the shapes whether each class's samples show its shape (each null when not measured).
     */
    public record Written(Path report, Recognisability recognisable, ClassRecognisability byClass) {}

    /** Samples per class at T = 0.7 that a class-conditional model of the shapes is measured on. */
    static final int PER_CLASS = 64;

    public static Written write(Path runDir, MultiScaleFlow model, RunConfig cfg, ImageSource train, ImageSource test,
                                Trainer.Result result, double wallSeconds) throws IOException {
        Map<String, Object> page = new LinkedHashMap<>();
        Curves curves = curves(runDir, page);
        Samples samples = samples(runDir, model, cfg, train, test, result, page);
        sweep(runDir, model, cfg, page);
        double reconError = reconstructions(runDir, model, cfg, test, page);

        ModelConfig m = cfg.model();
        int c = m.channels(), h = m.height(), w = m.width();
        String what = String.format(Locale.ROOT, "%s, %s coupling, L = %d × K = %d, on %s %d×%d×%d: %,d iterations",
                m.permutation(), m.coupling(), m.levels(), m.steps(), cfg.data().kind(), c, h, w, result.iterations());
        page.put("title", runDir.getFileName() + ": " + what);
        page.put("selfContained", true);
        page.put("what", what);
        page.put("folder", runDir.toAbsolutePath().toString());
        page.put("written", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern(
                "yyyy-MM-dd HH:mm 'UTC'")));
        page.put("version", version());
        page.put("command", System.getProperty("woodflow.commandLine"));
        if (result.skippedSteps() > 0) {
            long n = result.skippedSteps();
            int r = curves.recoveries();
            Map<String, Object> skipped = new LinkedHashMap<>();
            skipped.put("count", n);
            skipped.put("steps", n == 1 ? "step was" : "steps were");
            if (r > 0) skipped.put("recoveries", r + (r == 1 ? " time" : " times"));
            page.put("skipped", skipped);
        }
        page.put("bestTestBpd", woodflow.core.Figures.bpd(result.bestTestBpd()));
        page.put("facts", facts(model, cfg, train, test, result, wallSeconds, samples.seconds(), reconError));
        page.put("logEvery", cfg.train().logEvery());
        page.put("schedule", cfg.train().schedule().describe() + (cfg.train().warmup() > 0 ? " after a linear warm-up "
                + "of " + cfg.train().warmup() + " iterations" : "") + " (train.lr " + cfg.train().lr() + ")");
        page.put("evalEvery", cfg.train().evalEvery());
        page.put("fewPoints", curves.trainPoints() < 5);
        page.put("config", cfg.toYaml());
        page.put("files", links(runDir));
        Path out = runDir.resolve("report.html");
        AtomicFiles.writeString(out, Html.render("run-report.mustache", page));
        return new Written(out, samples.recognisable(), samples.byClass());
    }

    /** What the learning curve held: its train points, and the recoveries the metrics record. */
    private record Curves(int trainPoints, int recoveries) {}

    /** The learning curves (every log line and evaluation), written to curve.png and shown on the page. */
    private static Curves curves(Path runDir, Map<String, Object> page) throws IOException {
        List<double[]> trainPts = new ArrayList<>(), testPts = new ArrayList<>(), lrPts = new ArrayList<>();
        int recoveries = 0;
        for (JsonNode n : MetricsLog.read(runDir.resolve("metrics.jsonl"))) {
            if (n.path("train_bpd").isNumber() && Double.isFinite(n.get("train_bpd").asDouble())) {
                trainPts.add(new double[] {n.get("iteration").asDouble(), n.get("train_bpd").asDouble()});
                if (n.has("lr")) lrPts.add(new double[] {n.get("iteration").asDouble(), n.get("lr").asDouble()});
            }
            if (n.path("test_bpd").isNumber()) {
                testPts.add(new double[] {n.get("iteration").asDouble(), n.get("test_bpd").asDouble()});
            }
            if (n.has("event") && n.get("event").asText().equals(MetricsLog.RECOVERED)) recoveries++;
        }
        byte[] curve = Plots.linePng("Bits per dimension", "iteration", "bpd",
                List.of(Plots.series("train (mean over each log interval)", trainPts), Plots.series("test", testPts)),
                false, 800, 420);
        AtomicFiles.write(runDir.resolve("curve.png"), curve);
        page.put("curve", Html.dataUri(curve));
        if (!lrPts.isEmpty()) {
            // the learning rate of the last step of each log interval (warm-up and schedule applied)
            page.put("rates", Html.dataUri(Plots.linePng("Learning rate", "iteration", "learning rate",
                    List.of(Plots.series("learning rate of the last step of each log interval", lrPts)), false, 800,
                    260)));
        }
        return new Curves(trainPts.size(), recoveries);
    }

    /**
     * What the sample grids measured: the time of the samples at T = 0.7, their recognisability, and (a conditional
     * model of the shapes) whether each class's samples show its shape.
     */
    private record Samples(double seconds, Recognisability recognisable, ClassRecognisability byClass) {}

    /**
     * Real training images, then 64 samples at each of the config's temperatures (the same noise), each written to
     * samples/final-tT.png; at T = 0.7 the draw is timed and its recognisability measured.
     */
    private static Samples samples(Path runDir, MultiScaleFlow model, RunConfig cfg, ImageSource train,
                                   ImageSource test, Trainer.Result result, Map<String, Object> page)
            throws IOException {
        int nBits = cfg.data().nBits();
        long seed = cfg.train().seed() + 101;
        int c = cfg.model().channels(), h = cfg.model().height(), w = cfg.model().width();
        int scale = ImageGrid.scaleFor(h, TILE_PIXELS);
        List<Map<String, String>> figures = new ArrayList<>();
        List<byte[]> real = new ArrayList<>();
        for (int i : DataInspect.spread(train.size(), 64)) real.add(train.image(i));
        figures.add(figure(ImageGrid.pngBytes(ImageGrid.renderLabelled(real, c, h, w, 8, NO_LABELS, scale)),
                "training images (real data)"));
        double sampleSeconds = Double.NaN;
        List<String> overflow = new ArrayList<>();
        Recognisability recognisable = null;
        ClassRecognisability byClass = null;
        List<String> classes = model.classes();
        for (double t : cfg.train().temperatures()) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                if (!classes.isEmpty()) {
                    // a class-conditional model: one row per class; at T = 0.7, PER_CLASS samples of each measured
                    boolean measured = Math.abs(t - 0.7) < 1e-9;
                    int per = measured ? PER_CLASS : 8;
                    int[] y = new int[per * classes.size()];
                    for (int i = 0; i < y.length; i++) y[i] = i / per;
                    List<byte[]> all = ImageGrid.images(Sampler.sample(model, y.length, t, nBits, seed, y));
                    List<List<byte[]>> each = new ArrayList<>();
                    List<byte[]> shown = new ArrayList<>();
                    for (int k = 0; k < classes.size(); k++) {
                        each.add(all.subList(k * per, (k + 1) * per));
                        shown.addAll(all.subList(k * per, k * per + 8));
                    }
                    if (measured) {
                        sampleSeconds = (System.nanoTime() - t0) / 1e9;
                        long tc = System.nanoTime();
                        var net = Recognisability.classifierFor(train, test, nBits, cfg.train().seed());
                        if (net != null) {
                            recognisable = Recognisability.measure(net, train, test, all, cfg.train().seed(), tc);
                            byClass = ClassRecognisability.measure(net, classes, each, t);
                        }
                    }
                    String title = String.format(Locale.ROOT, "samples at T = %.3g, a class per row, iteration %d",
                            t, result.iterations());
                    AtomicFiles.write(runDir.resolve("samples").resolve(String.format(Locale.ROOT,
                            "final-t%.3f.png", t)), ImageGrid.pngBytes(ImageGrid.renderLabelled(shown, c, h, w, 8,
                            new ImageGrid.Labels(title, classes, ImageGrid.Labels.numbered("", 8, 8).columns()))));
                    figures.add(figure(ImageGrid.pngBytes(ImageGrid.renderLabelled(shown, c, h, w, 8,
                            new ImageGrid.Labels("", classes, List.of()), scale)), String.format(Locale.ROOT,
                            "samples, T = %.3g (a row per class: %s)", t, String.join(", ", classes))));
                    continue;
                }
                Tensor s = Sampler.sample(model, 64, t, nBits, seed);
                List<byte[]> images = ImageGrid.images(s);
                if (Math.abs(t - 0.7) < 1e-9) {
                    sampleSeconds = (System.nanoTime() - t0) / 1e9;
                    recognisable = Recognisability.measure(train, test, images, nBits, cfg.train().seed());
                }
                AtomicFiles.write(runDir.resolve("samples").resolve(String.format(Locale.ROOT, "final-t%.3f.png", t)),
                        ImageGrid.pngBytes(ImageGrid.renderLabelled(images, c, h, w, 8, ImageGrid.Labels.numbered(
                                String.format(Locale.ROOT, "64 samples at T = %.3g, iteration %d", t,
                                        result.iterations()), 64, 8))));
                figures.add(figure(ImageGrid.pngBytes(ImageGrid.renderLabelled(images, c, h, w, 8, NO_LABELS,
                        scale)), String.format(Locale.ROOT, "samples, T = %.3g", t)));
            } catch (NumericalException e) {
                overflow.add(String.format(Locale.ROOT, "%.3g", t));
            }
        }
        page.put("figures", figures);
        if (recognisable != null) page.put("recognisable", recognisable(recognisable));
        if (byClass != null) {
            page.put("byClass", Map.of("shares", byClass.shares(), "perClass", byClass.perClass(),
                    "confidence", String.format(Locale.ROOT, "%.1f", ShapeClassifier.CONFIDENCE)));
        }
        if (!overflow.isEmpty()) page.put("overflow", Map.of("temperatures", String.join(", ", overflow)));
        return new Samples(sampleSeconds, recognisable, byClass);
    }

    /** The temperature sweep (10 per row, one row per temperature), written to samples/temperature-sweep.png. */
    private static void sweep(Path runDir, MultiScaleFlow model, RunConfig cfg, Map<String, Object> page)
            throws IOException {
        int c = cfg.model().channels(), h = cfg.model().height(), w = cfg.model().width();
        try (PointerScope scope = new PointerScope()) {
            List<byte[]> rows = Sampler.temperatureSweep(model, cfg.train().temperatures(), 10, cfg.data().nBits(),
                    cfg.train().seed() + 102);
            List<String> labels = new ArrayList<>();
            for (double t : cfg.train().temperatures()) labels.add(String.format(Locale.ROOT, "T = %.3g", t));
            List<String> columns = ImageGrid.Labels.numbered("", 10, 10).columns();
            List<String> classes = model.classes();
            if (!classes.isEmpty()) {
                // a class-conditional model: the classes in turn along each row
                columns = new ArrayList<>();
                for (int i = 0; i < 10; i++) columns.add(classes.get(i % classes.size()));
            }
            byte[] sweep = ImageGrid.pngBytes(ImageGrid.renderLabelled(rows, c, h, w, 10, new ImageGrid.Labels(
                    "the same noise in each column", labels, columns)));
            AtomicFiles.write(runDir.resolve("samples/temperature-sweep.png"), sweep);
            page.put("sweep", Html.dataUri(sweep));
        } catch (NumericalException e) {
            // a temperature of the sweep overflowed: the page says so
        }
    }

    /**
     * Test images above decode(encode(x)), written to samples/reconstructions.png; returns the largest pixel
     * difference (0 to 255).
     */
    private static double reconstructions(Path runDir, MultiScaleFlow model, RunConfig cfg, ImageSource test,
                                          Map<String, Object> page) throws IOException {
        int c = cfg.model().channels(), h = cfg.model().height(), w = cfg.model().width();
        try (PointerScope scope = new PointerScope()) {
            List<byte[]> imgs = new ArrayList<>();
            for (int i = 0; i < Math.min(10, test.size()); i++) imgs.add(test.image(i));
            Tensor batch = Quantization.stack(imgs, c, h, w);
            List<byte[]> pairs = Sampler.reconstructions(model, batch, cfg.data().nBits());
            double error = 0;
            for (int i = 0; i < imgs.size(); i++) {
                byte[] a = pairs.get(i), b = pairs.get(i + imgs.size());
                for (int k = 0; k < a.length; k++) error = Math.max(error, Math.abs((a[k] & 255) - (b[k] & 255)));
            }
            byte[] recon = ImageGrid.pngBytes(ImageGrid.renderLabelled(pairs, c, h, w, imgs.size(),
                    new ImageGrid.Labels("", List.of("test image", "decode(encode(x))"), List.of())));
            AtomicFiles.write(runDir.resolve("samples/reconstructions.png"), recon);
            page.put("reconstructions", Html.dataUri(recon));
            return error;
        }
    }

    /** The table of facts under the headline: what ran, on what, how long, how fast, how exact. */
    private static List<Map<String, String>> facts(MultiScaleFlow model, RunConfig cfg, ImageSource train,
                                                   ImageSource test, Trainer.Result result, double wallSeconds,
                                                   double sampleSeconds, double reconError) {
        ModelConfig m = cfg.model();
        List<Map<String, String>> rows = new ArrayList<>();
        fact(rows, "model", String.format(Locale.ROOT, "%s permutation, %s coupling, %d levels × %d steps, %d "
                        + "coupling channels, %,d parameters", m.permutation(), m.coupling(), m.levels(), m.steps(),
                m.hidden(), model.parameterCount()));
        fact(rows, "data", cfg.data().kind() + (cfg.data().style() == null ? "" : " (" + cfg.data().style() + ")")
                + (cfg.data().path() == null ? "" : " " + cfg.data().path()) + ", " + m.channels() + "×" + m.height()
                + "×" + m.width() + ", " + cfg.data().nBits() + " bits, training images: " + train.size()
                + ", test images: " + test.size());
        fact(rows, "dequantisation", model.dequantizer() + (model.variationalDequantizer() == null ? " noise"
                : String.format(Locale.ROOT, ", %,d parameters; the bpd includes -log q",
                model.variationalDequantizer().parameterCount())));
        if (m.classConditional()) {
            fact(rows, "classes", String.join(", ", model.classes()) + " (the priors conditioned on the class"
                    + (m.classLossWeight() > 0 ? ", class-prediction loss weight " + m.classLossWeight() : "")
                    + "; test bpd given each image's own class)");
        }
        fact(rows, "weights", cfg.train().averagesWeights() ? String.format(Locale.ROOT, "the moving average of the "
                + "trained weights (train.ema %s): the test bpd, samples and reconstructions here are the averaged "
                + "model's", cfg.train().ema()) : "as trained (no moving average)");
        fact(rows, "iterations", String.format(Locale.ROOT, "%d (batch %d, %s)", result.iterations(),
                cfg.train().batch(), cfg.train().precision()));
        fact(rows, "test bpd (last / best)", woodflow.core.Figures.bpd(result.testBpd()) + " / "
                + woodflow.core.Figures.bpd(result.bestTestBpd()));
        fact(rows, "training speed", String.format(Locale.ROOT, "%.1f images/s", result.imagesPerSecond()));
        fact(rows, "time", String.format(Locale.ROOT, "%.1f s training steps, %.1f s wall clock in this session",
                result.trainSeconds(), wallSeconds));
        fact(rows, "sampling 64 images (T = 0.7)", Double.isNaN(sampleSeconds) ? "—"
                : String.format(Locale.ROOT, "%.3f s", sampleSeconds));
        fact(rows, "skipped steps (non-finite)", Long.toString(result.skippedSteps()));
        fact(rows, "reconstruction", String.format(Locale.ROOT, "max pixel difference %.0f (of 255) after "
                + "decode(encode(x))", reconError));
        fact(rows, "config description", cfg.description());
        return rows;
    }

    private static void fact(List<Map<String, String>> rows, String name, String value) {
        rows.add(Map.of("name", name, "value", value));
    }

    /** The recognisability numbers under the grids, as the page shows them. */
    private static Map<String, Object> recognisable(Recognisability r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", String.format(Locale.ROOT, "%.0f%%", 100 * r.samples()));
        m.put("real", String.format(Locale.ROOT, "%.0f%%", 100 * r.real()));
        m.put("noise", String.format(Locale.ROOT, "%.0f%%", 100 * r.noise()));
        m.put("confidence", String.format(Locale.ROOT, "%.1f", ShapeClassifier.CONFIDENCE));
        m.put("sampleCount", r.sampleCount());
        m.put("kinds", r.kinds());
        m.put("realCount", r.realCount());
        m.put("noiseCount", r.noiseCount());
        m.put("seconds", String.format(Locale.ROOT, "%.1f", r.seconds()));
        return m;
    }

    private static Map<String, String> figure(byte[] png, String caption) {
        return Map.of("png", Html.dataUri(png), "caption", caption);
    }

    /** woodflow's version from the jar's manifest ("development build" when run from classes). */
    public static String version() {
        String v = RunReport.class.getPackage().getImplementationVersion();
        return v != null ? v : "(development build)";
    }

    /** The run's files that exist, as relative links (the folder can move). */
    private static List<String> links(Path runDir) throws IOException {
        List<String> files = new ArrayList<>();
        for (String f : List.of("config.yaml", "metrics.jsonl", "summary.json", "curve.png", "holdout.txt",
                "checkpoints/best.safetensors")) {
            if (Files.exists(runDir.resolve(f))) files.add(f);
        }
        for (String dir : List.of("checkpoints", "samples")) {
            if (!Files.isDirectory(runDir.resolve(dir))) continue;
            try (Stream<Path> s = Files.list(runDir.resolve(dir))) {
                s.map(p -> dir + "/" + p.getFileName()).filter(n -> !n.contains("/.") && !files.contains(n)).sorted()
                        .forEach(files::add);
            }
        }
        return files;
    }
}
