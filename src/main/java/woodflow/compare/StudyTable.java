package woodflow.compare;

import woodflow.io.Csv;
import woodflow.io.MarkdownTable;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * A study's results as a table: one row per variant, the same formatted cells in the Markdown table and the HTML
 * report (its template {@code study-report.mustache} lays them out), and the unrounded numbers in the CSV. Columns: the variant, parameters, best test bpd (mean ± sample
 * standard deviation over seeds, and each seed's), iterations, training-step time, training images/s, the time to
 * sample 64 images at T = 0.7, and the peak resident memory of the run's training process and its growth in
 * training.
 */
public final class StudyTable {
    private final String firstColumn;
    private final List<StudyResults.Row> rows;

    public StudyTable(String firstColumn, StudyResults results) {
        this.firstColumn = firstColumn;
        this.rows = results.rows();
    }

    public List<String> header() {
        return List.of(firstColumn, "parameters", "best test bpd (mean ± std)", "per seed", "iterations",
                "train time (s)", "train images/s", "sample 64 @ T=0.7 (s)", "peak RSS (MB)",
                "RSS growth (MB)");
    }

    /** The formatted cells of each row (what the Markdown table and the HTML report show). */
    public List<List<String>> cells() {
        List<List<String>> out = new ArrayList<>();
        for (StudyResults.Row r : rows) {
            List<String> c = new ArrayList<>();
            c.add(r.variant().label());
            if (r.runs().isEmpty()) {
                c.add("no finished run");
                while (c.size() < header().size()) c.add("");
                out.add(c);
                continue;
            }
            c.add(String.format(Locale.ROOT, "%,d", r.parameters()));
            double std = r.bpdStd();
            c.add(Double.isNaN(std) ? bpd(r.bpdMean()) : bpd(r.bpdMean()) + " ± " + bpd(std));
            StringJoiner seeds = new StringJoiner(" / ");
            for (StudyResults.Run run : r.runs()) seeds.add(bpd(run.bestTestBpd()));
            c.add(seeds + (r.complete() ? "" : String.format(Locale.ROOT, " (%d of %d seeds)", r.runs().size(),
                    r.seeds())));
            c.add(String.format(Locale.ROOT, "%.0f", r.iterations()));
            c.add(String.format(Locale.ROOT, "%.1f", r.trainSeconds()));
            c.add(String.format(Locale.ROOT, "%.1f", r.imagesPerSecond()));
            c.add(String.format(Locale.ROOT, "%.3f", r.sampleSeconds()) + (r.nonFiniteSamples() == 0 ? ""
                    : String.format(Locale.ROOT, " (non-finite in %d of %d)", r.nonFiniteSamples(), r.runs().size())));
            c.add(mb(r.peakRssMb()));
            c.add(mb(r.rssGrowthMb()));
            out.add(c);
        }
        return out;
    }

    private static String mb(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f", v);
    }

    static String bpd(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    public String markdown() {
        return MarkdownTable.of(header(), cells(), 1);
    }

    /** Unrounded numbers, one row per variant; per-seed values separated by ';'. */
    public String csv() {
        List<List<?>> out = new ArrayList<>();
        for (StudyResults.Row r : rows) {
            StringJoiner seeds = new StringJoiner(";"), values = new StringJoiner(";");
            for (StudyResults.Run run : r.runs()) {
                seeds.add(Long.toString(run.seed()));
                values.add(Double.toString(run.bestTestBpd()));
            }
            out.add(List.of(r.variant().label(), Integer.toString(r.runs().size()), seeds.toString(),
                    Long.toString(r.parameters()), num(r.bpdMean()), num(r.bpdStd()), values.toString(),
                    num(r.iterations()), num(r.trainSeconds()), num(r.imagesPerSecond()), num(r.sampleSeconds()),
                    Long.toString(r.nonFiniteSamples()), num(r.peakRssMb()), num(r.rssGrowthMb())));
        }
        return Csv.write(List.of(firstColumn, "runs", "seeds", "parameters", "best_test_bpd_mean",
                "best_test_bpd_std", "best_test_bpd_per_seed", "iterations", "train_seconds", "images_per_s",
                "sample_seconds_64", "non_finite_samples", "peak_rss_mb", "rss_growth_mb"), out);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }
}
