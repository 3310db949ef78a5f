package woodflow.compare;

import woodflow.io.AtomicFiles;
import woodflow.io.Html;
import woodflow.picture.Plots;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a study's outputs into its folder: {@code results.md} and {@code results.csv} (the table),
 * {@code bpd-vs-iterations.png} and {@code bpd-vs-time.png} (test bpd of every variant, averaged over seeds),
 * {@code samples/NAME.png} (64 samples at T = 0.7 from the best checkpoint of each variant's first finished seed
 * whose samples are finite)
 * and {@code report.html}, self-contained, in the style of the run reports.
 */
public final class StudyReport {
    private StudyReport() {}

    /** The notes under the table: what each column measures, the budget, the seeds and the command. */
    static List<String> notes(Study study) {
        List<String> n = new ArrayList<>();
        n.add("Date: " + study.date() + ". Command: `" + study.command() + "`. Machine: " + study.machine() + ".");
        n.add("Base: " + study.base().description() + ". Every run uses the same data, preprocessing, batch size ("
                + study.base().train().batch() + "), optimiser, evaluation images and dequantisation noise (eval seed "
                + study.base().train().evalSeed() + "); only the model differs.");
        n.add("Budget: " + study.budget().describe() + "; test bpd evaluated every " + study.base().train().evalEvery()
                + " iterations" + (study.budget().timed() ? " and where the time ran out" : "") + ". Seeds: "
                + study.seeds() + ".");
        n.add("best test bpd: the lowest test bpd over the run's evaluations, mean ± sample standard deviation "
                + "(n − 1) over seeds (no spread for one seed). Train time: summed duration of the training steps "
                + "(evaluation excluded); train images/s = iterations × batch / train time. Sampling: 64 images at "
                + "T = 0.7 from the best checkpoint, timed after one warm-up draw (marked when the samples are not "
                + "finite: an early model's inverse can overflow). Each run trains in its own "
                + "process; peak RSS: that process's peak resident memory (VmHWM) when training ended (JVM, libtorch, "
                + "data set, model, optimiser state and activations); RSS growth: that peak minus the resident memory "
                + "before the model was built, i.e. what training added (the largest over a resumed run's sessions). "
                + "Columns other than bpd are means over seeds (memory: the largest).");
        return n;
    }

    static void write(Study study, StudyResults results) throws IOException {
        Path out = study.out();
        StudyTable table = new StudyTable(study.firstColumn(), results);
        List<String> notes = notes(study);
        StringBuilder md = new StringBuilder("# ").append(study.title()).append("\n\n").append(table.markdown())
                .append('\n');
        for (String n : notes) md.append(n).append("\n\n");
        AtomicFiles.writeString(out.resolve("results.md"), md.toString());
        AtomicFiles.writeString(out.resolve("results.csv"), table.csv());

        List<Plots.Series> byIteration = new ArrayList<>(), byTime = new ArrayList<>();
        for (StudyResults.Row r : results.rows()) {
            List<double[]> curve = r.meanCurve();
            // the untrained model's bpd (iteration 0) would squash every later difference into one pixel row
            if (curve.size() > 1 && curve.get(0)[0] == 0) curve = curve.subList(1, curve.size());
            List<double[]> it = new ArrayList<>(), time = new ArrayList<>();
            for (double[] p : curve) {
                it.add(new double[] {p[0], p[2]});
                time.add(new double[] {p[1], p[2]});
            }
            byIteration.add(Plots.series(r.variant().label(), it));
            byTime.add(Plots.series(r.variant().label(), time));
        }
        String what = study.ablated() == null ? "" : " (" + study.ablated() + ")";
        byte[] itPng = Plots.linePng("Test bpd against iterations" + what, "iteration", "test bpd", byIteration,
                false, 800, 480);
        byte[] timePng = Plots.linePng("Test bpd against training time" + what, "training-step time (s)",
                "test bpd", byTime, false, 800, 480);
        AtomicFiles.write(out.resolve("bpd-vs-iterations.png"), itPng);
        AtomicFiles.write(out.resolve("bpd-vs-time.png"), timePng);

        Map<String, byte[]> grids = new LinkedHashMap<>();
        for (StudyResults.Row r : results.rows()) {
            for (StudyResults.Run run : r.runs()) {
                Path grid = run.dir().resolve("samples").resolve(CellRunner.gridName());
                if (!Files.exists(grid)) continue; // its samples were not finite
                byte[] png = Files.readAllBytes(grid);
                AtomicFiles.write(out.resolve("samples").resolve(r.variant().name() + ".png"), png);
                grids.put(r.variant().label() + " (seed " + run.seed() + ")", png);
                break;
            }
        }

        Map<String, Object> page = new LinkedHashMap<>();
        page.put("title", study.title());
        page.put("selfContained", true);
        page.put("base", study.base().description());
        page.put("budget", study.budget().describe());
        page.put("seeds", study.seeds().toString());
        page.put("header", table.header());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (List<String> row : table.cells()) {
            rows.add(Map.of("first", row.get(0), "rest", row.subList(1, row.size())));
        }
        page.put("rows", rows);
        page.put("notes", notes.stream().map(n -> n.replace("`", "")).toList());
        page.put("byIteration", Html.dataUri(itPng));
        page.put("byTime", Html.dataUri(timePng));
        List<Map<String, String>> figures = new ArrayList<>();
        grids.forEach((label, png) -> figures.add(Map.of("label", label, "png", Html.dataUri(png))));
        page.put("grids", figures);
        page.put("config", study.base().toYaml());
        AtomicFiles.writeString(out.resolve("report.html"), Html.render("study-report.mustache", page));
    }
}
