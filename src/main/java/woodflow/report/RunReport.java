package woodflow.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.data.DataInspect;
import woodflow.picture.Plots;
import woodflow.quality.Recognisability;
import woodflow.quality.ShapeClassifier;
import woodflow.picture.ImageGrid;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
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
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The page a person looks at after a run: {@code report.html} in the run folder, self-contained (images embedded),
 * titled with what ran; when and by which woodflow and command line it was written; a warning when steps were
 * skipped; the learning curves (every log line and evaluation); real training images beside the sample grids at
 * each temperature; on the labelled embedded shapes, how many of the T = 0.7 samples a shape classifier recognises
 * ({@link Recognisability}); a labelled temperature sweep; reconstructions of test images; the config; links to the run's
 * files. The PNGs are also written to the run folder.
 */
public final class RunReport {
    /** Sample grids in the report are side by side: tiles at least this many pixels high. */
    private static final int TILE_PIXELS = 32;

    private RunReport() {}

    /** What {@link #write} made: the page, and the recognisability of the T = 0.7 samples (null when not measured). */
    public record Written(Path report, Recognisability recognisable) {}

    public static Written write(Path runDir, MultiScaleFlow model, RunConfig cfg, ImageSource train, ImageSource test,
                                Trainer.Result result, double wallSeconds) throws IOException {
        int nBits = cfg.data().nBits();
        long seed = cfg.train().seed() + 101;
        List<JsonNode> metrics = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        List<double[]> trainPts = new ArrayList<>(), testPts = new ArrayList<>();
        int recoveries = 0;
        for (JsonNode n : metrics) {
            if (n.has("train_bpd") && Double.isFinite(n.get("train_bpd").asDouble())) {
                trainPts.add(new double[] {n.get("iteration").asDouble(), n.get("train_bpd").asDouble()});
            }
            if (n.has("test_bpd")) testPts.add(new double[] {n.get("iteration").asDouble(), n.get("test_bpd").asDouble()});
            if (n.has("event") && n.get("event").asText().equals(MetricsLog.RECOVERED)) recoveries++;
        }
        byte[] curve = Plots.linePng("Bits per dimension", "iteration", "bpd",
                List.of(Plots.series("train (mean over each log interval)", trainPts), Plots.series("test", testPts)),
                false, 800, 420);
        woodflow.io.AtomicFiles.write(runDir.resolve("curve.png"), curve);

        int c = cfg.model().channels(), h = cfg.model().height(), w = cfg.model().width();
        int scale = ImageGrid.scaleFor(h, TILE_PIXELS);
        StringBuilder samples = new StringBuilder("<div class=\"grid\">");
        List<byte[]> real = new ArrayList<>();
        for (int i : DataInspect.spread(train.size(), 64)) real.add(train.image(i));
        samples.append(figure(ImageGrid.pngBytes(ImageGrid.renderLabelled(real, c, h, w, 8,
                new ImageGrid.Labels("", List.of(), List.of()), scale)), "training images (real data)"));
        double sampleSeconds = Double.NaN;
        List<String> overflow = new ArrayList<>();
        Recognisability recognisable = null;
        for (double t : cfg.train().temperatures()) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                Tensor s = Sampler.sample(model, 64, t, nBits, seed);
                List<byte[]> images = ImageGrid.images(s);
                if (Math.abs(t - 0.7) < 1e-9) {
                    sampleSeconds = (System.nanoTime() - t0) / 1e9;
                    recognisable = Recognisability.measure(train, test, images, nBits, cfg.train().seed());
                }
                woodflow.io.AtomicFiles.write(runDir.resolve("samples").resolve(String.format(Locale.ROOT,
                        "final-t%.3f.png", t)), ImageGrid.pngBytes(ImageGrid.renderLabelled(images, c, h, w, 8,
                        ImageGrid.Labels.numbered(String.format(Locale.ROOT, "64 samples at T = %.3g, iteration %d",
                                t, result.iterations()), 64, 8))));
                byte[] png = ImageGrid.pngBytes(ImageGrid.renderLabelled(images, c, h, w, 8,
                        new ImageGrid.Labels("", List.of(), List.of()), scale));
                samples.append(figure(png, String.format(Locale.ROOT, "samples, T = %.3g", t)));
            } catch (woodflow.core.NumericalException e) {
                overflow.add(String.format(Locale.ROOT, "%.3g", t));
            }
        }
        samples.append("</div>");
        if (recognisable != null) samples.append(recognisableHtml(recognisable));
        if (!overflow.isEmpty()) {
            samples.append("<p class=\"warn\">Sampling at T = ").append(String.join(", ", overflow)).append(" produced "
                    + "non-finite pixels (the inverse overflowed): the model is not yet stable that far from its "
                    + "typical set; train longer or use a lower temperature.</p>");
        }
        byte[] sweep = null, recon;
        double reconError;
        try (PointerScope scope = new PointerScope()) {
            try {
                List<byte[]> rows = Sampler.temperatureSweep(model, cfg.train().temperatures(), 10, nBits, seed + 1);
                List<String> labels = new ArrayList<>();
                for (double t : cfg.train().temperatures()) labels.add(String.format(Locale.ROOT, "T = %.3g", t));
                sweep = ImageGrid.pngBytes(ImageGrid.renderLabelled(rows, c, h, w, 10, new ImageGrid.Labels(
                        "the same noise in each column", labels, ImageGrid.Labels.numbered("", 10, 10).columns())));
                woodflow.io.AtomicFiles.write(runDir.resolve("samples/temperature-sweep.png"), sweep);
            } catch (woodflow.core.NumericalException e) {
                sweep = null;
            }
            List<byte[]> imgs = new ArrayList<>();
            for (int i = 0; i < Math.min(10, test.size()); i++) imgs.add(test.image(i));
            Tensor batch = Quantization.stack(imgs, c, h, w);
            List<byte[]> pairs = Sampler.reconstructions(model, batch, nBits);
            reconError = 0;
            for (int i = 0; i < imgs.size(); i++) {
                byte[] a = pairs.get(i), b = pairs.get(i + imgs.size());
                for (int k = 0; k < a.length; k++) reconError = Math.max(reconError, Math.abs((a[k] & 255) - (b[k] & 255)));
            }
            recon = ImageGrid.pngBytes(ImageGrid.renderLabelled(pairs, c, h, w, imgs.size(), new ImageGrid.Labels("",
                    List.of("test image", "decode(encode(x))"), List.of())));
            woodflow.io.AtomicFiles.write(runDir.resolve("samples/reconstructions.png"), recon);
        }

        ModelConfig m = cfg.model();
        String what = String.format(Locale.ROOT, "%s, %s coupling, L = %d × K = %d, on %s %d×%d×%d: %,d iterations",
                m.permutation(), m.coupling(), m.levels(), m.steps(), cfg.data().kind(), c, h, w, result.iterations());
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
                .append(Html.esc(runDir.getFileName() + ": " + what)).append("</title>")
                .append(Html.STYLE).append("</head><body>");
        html.append("<h1>").append(Html.esc(what)).append("</h1><p class=\"sub\">")
                .append(Html.esc(runDir.toAbsolutePath().toString())).append("<br>written ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
                .append(" by woodflow ").append(Html.esc(version()));
        String command = System.getProperty("woodflow.commandLine");
        if (command != null) html.append("<br>command: <code>").append(Html.esc(command)).append("</code>");
        html.append("</p>");
        if (result.skippedSteps() > 0) {
            html.append("<p class=\"warn\">Warning: ").append(result.skippedSteps()).append(" training step")
                    .append(result.skippedSteps() == 1 ? " was" : "s were").append(" skipped (a non-finite loss or "
                    + "gradient)").append(recoveries > 0 ? ", and the run was restored from a checkpoint with a halved "
                    + "learning rate " + recoveries + (recoveries == 1 ? " time" : " times") : "")
                    .append(". A few are harmless; many mean the learning rate is too high or the data has bad values "
                    + "(see \"skipped_steps\" in metrics.jsonl).</p>");
        }
        html.append("<p class=\"big\">").append(String.format(Locale.ROOT, "best test bpd %.4f", result.bestTestBpd()))
                .append("</p>");
        html.append("<table>");
        row(html, "model", String.format(Locale.ROOT, "%s permutation, %s coupling, %d levels × %d steps, %d coupling "
                        + "channels, %,d parameters", m.permutation(), m.coupling(), m.levels(), m.steps(), m.hidden(),
                model.parameterCount()));
        row(html, "data", cfg.data().kind() + (cfg.data().style() == null ? "" : " (" + cfg.data().style() + ")")
                + (cfg.data().path() == null ? "" : " " + cfg.data().path()) + ", "
                + c + "×" + h + "×" + w + ", " + nBits + " bits, training images: " + train.size() + ", test images: "
                + test.size());
        row(html, "iterations", String.format(Locale.ROOT, "%d (batch %d, %s)", result.iterations(),
                cfg.train().batch(), cfg.train().precision()));
        row(html, "test bpd (last / best)", String.format(Locale.ROOT, "%.4f / %.4f", result.testBpd(),
                result.bestTestBpd()));
        row(html, "training speed", String.format(Locale.ROOT, "%.1f images/s", result.imagesPerSecond()));
        row(html, "time", String.format(Locale.ROOT, "%.1f s training steps, %.1f s wall clock in this session",
                result.trainSeconds(), wallSeconds));
        row(html, "sampling 64 images (T = 0.7)", Double.isNaN(sampleSeconds) ? "—"
                : String.format(Locale.ROOT, "%.3f s", sampleSeconds));
        row(html, "skipped steps (non-finite)", Long.toString(result.skippedSteps()));
        row(html, "reconstruction", String.format(Locale.ROOT, "max pixel difference %.0f (of 255) after "
                + "decode(encode(x))", reconError));
        if (cfg.description() != null) row(html, "config description", cfg.description());
        html.append("</table>");
        html.append("<h2>Learning curves</h2><p>Train: the mean bpd of the batches of each log interval (every "
                + cfg.train().logEvery() + " iterations); test: each evaluation (every " + cfg.train().evalEvery()
                + ").").append(trainPts.size() < 5 ? " Few points: a short run logs rarely; <code>train --log-every N"
                + "</code> logs more often." : "").append("</p>").append(Html.img(curve, "learning curve"));
        html.append("<h2>Samples</h2><p>Real training images, then 64 samples at each temperature (the same latent "
                + "noise).</p>").append(samples);
        html.append("<h2>Temperature sweep</h2><p>One row per temperature, the same noise in every column.</p>")
                .append(sweep != null ? Html.img(sweep, "sweep")
                        : "<p>(not drawn: a temperature of the sweep overflowed)</p>");
        html.append("<h2>Reconstructions</h2><p>Top: test images; bottom: decode(encode(x)).</p>")
                .append(Html.img(recon, "reconstructions"));
        html.append("<h2>Configuration</h2><pre>").append(Html.esc(cfg.toYaml())).append("</pre>");
        html.append("<h2>Files</h2><ul class=\"files\">").append(links(runDir)).append("</ul></body></html>\n");
        Path out = runDir.resolve("report.html");
        woodflow.io.AtomicFiles.writeString(out, html.toString());
        return new Written(out, recognisable);
    }

    /** The recognisability numbers under the grids, with what they count. */
    private static String recognisableHtml(Recognisability r) {
        return String.format(Locale.ROOT, "<p class=\"big\">recognisable shapes: samples at T = 0.7 %.0f%% · real test "
                + "images %.0f%% · uniform noise %.0f%%</p><p>The share of images whose shape a small classifier names "
                + "with probability ≥ %.1f. It is trained on the generator's own labels (disc, square or ring, in any "
                + "colour) and on pictures nobody would name (two shapes blended, smooth clouds of colour); "
                + "it saw no uniform noise. Counted: the %d samples at T = 0.7 above (recognised: %s), %d real test "
                + "images, %d images of uniform noise. (Classifier trained and run in %.1f s.)</p>",
                100 * r.samples(), 100 * r.real(), 100 * r.noise(), ShapeClassifier.CONFIDENCE, r.sampleCount(),
                r.kinds(), r.realCount(), r.noiseCount(), r.seconds());
    }

    private static String figure(byte[] png, String caption) {
        return "<figure>" + Html.img(png, caption) + "<figcaption>" + Html.esc(caption) + "</figcaption></figure>";
    }

    /** woodflow's version from the jar's manifest ("development build" when run from classes). */
    public static String version() {
        String v = RunReport.class.getPackage().getImplementationVersion();
        return v != null ? v : "(development build)";
    }

    /** Links (relative, so the folder can move) to the run's files that exist. */
    private static String links(Path runDir) throws IOException {
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
        StringBuilder b = new StringBuilder();
        for (String f : files) {
            b.append("<li><a href=\"").append(Html.esc(f)).append("\">").append(Html.esc(f)).append("</a></li>");
        }
        return b.toString();
    }

    private static void row(StringBuilder html, String k, String v) {
        html.append("<tr><th>").append(Html.esc(k)).append("</th><td>").append(Html.esc(v)).append("</td></tr>");
    }
}
