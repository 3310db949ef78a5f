package woodflow.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.data.ImageSource;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;
import woodflow.data.ImageGrid;
import woodflow.sample.Sampler;
import woodflow.train.MetricsLog;
import woodflow.train.RunConfig;
import woodflow.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The page a person looks at after a run: {@code report.html} in the run folder, self-contained (images embedded),
 * with the config, the learning curves, sample grids at several temperatures, a temperature sweep,
 * reconstructions of test images and the timing. The PNGs are also written to the run folder.
 */
public final class RunReport {
    private RunReport() {}

    public static Path write(Path runDir, MultiScaleFlow model, RunConfig cfg, ImageSource test, Trainer.Result result,
                             double wallSeconds) throws IOException {
        int nBits = cfg.data().nBits();
        long seed = cfg.train().seed() + 101;
        List<JsonNode> metrics = MetricsLog.read(runDir.resolve("metrics.jsonl"));
        List<double[]> trainPts = new ArrayList<>(), testPts = new ArrayList<>();
        for (JsonNode n : metrics) {
            if (n.has("train_bpd") && Double.isFinite(n.get("train_bpd").asDouble())) {
                trainPts.add(new double[] {n.get("iteration").asDouble(), n.get("train_bpd").asDouble()});
            }
            if (n.has("test_bpd")) testPts.add(new double[] {n.get("iteration").asDouble(), n.get("test_bpd").asDouble()});
        }
        byte[] curve = Plots.linePng("Bits per dimension", "iteration", "bpd",
                List.of(Plots.series("train (batch mean)", trainPts), Plots.series("test", testPts)), false, 800, 420);
        woodflow.io.AtomicFiles.write(runDir.resolve("curve.png"), curve);

        int c = cfg.model().channels(), h = cfg.model().height(), w = cfg.model().width();
        StringBuilder samples = new StringBuilder("<div class=\"grid\">");
        double sampleSeconds = Double.NaN;
        List<String> overflow = new ArrayList<>();
        for (double t : cfg.train().temperatures()) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                Tensor s = Sampler.sample(model, 64, t, nBits, seed);
                if (Math.abs(t - 0.7) < 1e-9) sampleSeconds = (System.nanoTime() - t0) / 1e9;
                byte[] png = ImageGrid.pngBytes(ImageGrid.renderForViewing(ImageGrid.images(s), c, h, w, 8));
                woodflow.io.AtomicFiles.write(runDir.resolve("samples").resolve(String.format(Locale.ROOT,
                        "final-t%.3f.png", t)), png);
                samples.append("<figure>").append(Html.img(png, "samples T=" + t))
                        .append(String.format(Locale.ROOT, "<figcaption>T = %.3g</figcaption></figure>", t));
            } catch (woodflow.core.NumericalException e) {
                overflow.add(String.format(Locale.ROOT, "%.3g", t));
            }
        }
        samples.append("</div>");
        if (!overflow.isEmpty()) {
            samples.append("<p>Sampling at T = ").append(String.join(", ", overflow)).append(" produced non-finite "
                    + "pixels (the inverse overflowed): the model is not yet stable that far from its typical set; "
                    + "train longer or use a lower temperature.</p>");
        }
        byte[] sweep = null, recon;
        double reconError;
        try (PointerScope scope = new PointerScope()) {
            try {
                List<byte[]> rows = Sampler.temperatureSweep(model, cfg.train().temperatures(), 10, nBits, seed + 1);
                sweep = ImageGrid.pngBytes(ImageGrid.renderForViewing(rows, c, h, w, 10));
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
            recon = ImageGrid.pngBytes(ImageGrid.renderForViewing(pairs, c, h, w, imgs.size()));
            woodflow.io.AtomicFiles.write(runDir.resolve("samples/reconstructions.png"), recon);
        }

        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>woodflow run report</title>")
                .append(Html.STYLE).append("</head><body>");
        html.append("<h1>woodflow run report</h1><p class=\"sub\">").append(Html.esc(cfg.description())).append(" — ")
                .append(Html.esc(runDir.toAbsolutePath().toString())).append("</p>");
        html.append("<p class=\"big\">").append(String.format(Locale.ROOT, "best test bpd %.4f", result.bestTestBpd()))
                .append("</p>");
        html.append("<table>");
        row(html, "model", String.format(Locale.ROOT, "%s permutation, %s coupling, %d levels × %d steps, %d coupling "
                        + "channels, %,d parameters", cfg.model().permutation(), cfg.model().coupling(),
                cfg.model().levels(), cfg.model().steps(), cfg.model().hidden(), model.parameterCount()));
        row(html, "data", cfg.data().kind() + (cfg.data().path() == null ? "" : " " + cfg.data().path()) + ", "
                + c + "×" + h + "×" + w + ", " + nBits + " bits, test images: " + test.size());
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
        html.append("</table>");
        html.append("<h2>Learning curves</h2>").append(Html.img(curve, "learning curve"));
        html.append("<h2>Samples</h2><p>64 samples at each temperature (the same latent noise).</p>").append(samples);
        html.append("<h2>Temperature sweep</h2><p>Rows: T = ");
        for (double t : cfg.train().temperatures()) html.append(String.format(Locale.ROOT, "%.3g ", t));
        html.append("(top to bottom), the same noise in every column.</p>").append(sweep != null
                ? Html.img(sweep, "sweep") : "<p>(not drawn: a temperature of the sweep overflowed)</p>");
        html.append("<h2>Reconstructions</h2><p>Top: test images; bottom: decode(encode(x)).</p>")
                .append(Html.img(recon, "reconstructions"));
        html.append("<h2>Configuration</h2><pre>").append(Html.esc(cfg.toYaml())).append("</pre>");
        html.append("<p class=\"sub\">Files in this folder: metrics.jsonl, summary.json, config.yaml, curve.png, "
                + "samples/, checkpoints/.</p></body></html>\n");
        Path out = runDir.resolve("report.html");
        woodflow.io.AtomicFiles.writeString(out, html.toString());
        return out;
    }

    private static void row(StringBuilder html, String k, String v) {
        html.append("<tr><th>").append(Html.esc(k)).append("</th><td>").append(Html.esc(v)).append("</td></tr>");
    }

}
