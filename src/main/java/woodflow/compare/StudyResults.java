package woodflow.compare;

import com.fasterxml.jackson.databind.JsonNode;
import woodflow.train.MetricsLog;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a study measured, read back from its run folders ({@code summary.json}, {@code cell.json},
 * {@code metrics.jsonl}), one {@link Row} per variant aggregated over the seeds whose runs finished within the
 * budget. The spread over seeds is the sample standard deviation (n - 1 in the denominator; none for one seed).
 */
public final class StudyResults {
    /** One finished run: its measurements and its test-bpd curve as {iteration, training seconds, bpd} points. */
    public record Run(long seed, Path dir, double bestTestBpd, long parameters, long iterations, double trainSeconds,
                      double imagesPerSecond, double sampleSeconds, boolean samplesFinite, double peakRssMb,
                      double rssGrowthMb, List<double[]> curve) {}

    /** A variant's runs, aggregated. */
    public record Row(Variant variant, List<Run> runs, int seeds) {
        public boolean complete() {
            return runs.size() == seeds;
        }

        public double bpdMean() {
            return mean(runs.stream().mapToDouble(Run::bestTestBpd).toArray());
        }

        /** Sample standard deviation over seeds; NaN with fewer than two runs. */
        public double bpdStd() {
            double[] v = runs.stream().mapToDouble(Run::bestTestBpd).toArray();
            if (v.length < 2) return Double.NaN;
            double m = mean(v), s = 0;
            for (double x : v) s += (x - m) * (x - m);
            return Math.sqrt(s / (v.length - 1));
        }

        public long parameters() {
            return runs.isEmpty() ? 0 : runs.get(0).parameters();
        }

        public double iterations() {
            return mean(runs.stream().mapToDouble(Run::iterations).toArray());
        }

        public double trainSeconds() {
            return mean(runs.stream().mapToDouble(Run::trainSeconds).toArray());
        }

        public double imagesPerSecond() {
            return mean(runs.stream().mapToDouble(Run::imagesPerSecond).toArray());
        }

        /** How many of the runs drew non-finite samples at T = 0.7. */
        public long nonFiniteSamples() {
            return runs.stream().filter(r -> !r.samplesFinite()).count();
        }

        public double sampleSeconds() {
            return mean(runs.stream().mapToDouble(Run::sampleSeconds).toArray());
        }

        /** The largest peak resident memory in training (VmHWM) of the variant's runs. */
        public double peakRssMb() {
            return runs.stream().mapToDouble(Run::peakRssMb).max().orElse(Double.NaN);
        }

        /** The largest growth of resident memory during training of the variant's runs. */
        public double rssGrowthMb() {
            return runs.stream().mapToDouble(Run::rssGrowthMb).max().orElse(Double.NaN);
        }

        /**
         * The test-bpd curve averaged over seeds at the iterations every seed evaluated: {iteration, mean training
         * seconds, mean bpd} points.
         */
        public List<double[]> meanCurve() {
            Map<Long, double[]> sum = new TreeMap<>();
            Map<Long, Integer> count = new HashMap<>();
            for (Run r : runs) {
                for (double[] p : r.curve()) {
                    long it = (long) p[0];
                    sum.computeIfAbsent(it, k -> new double[3]);
                    double[] s = sum.get(it);
                    s[1] += p[1];
                    s[2] += p[2];
                    count.merge(it, 1, Integer::sum);
                }
            }
            List<double[]> out = new ArrayList<>();
            sum.forEach((it, s) -> {
                int n = count.get(it);
                if (n == runs.size()) out.add(new double[] {it, s[1] / n, s[2] / n});
            });
            return out;
        }
    }

    private final List<Row> rows;

    private StudyResults(List<Row> rows) {
        this.rows = rows;
    }

    public List<Row> rows() {
        return rows;
    }

    /** Reads every cell of a study; a cell counts when its cell.json exists and shows the budget used. */
    static StudyResults collect(List<Study.Cell> cells, Budget budget, int seeds) throws IOException {
        Map<Variant, List<Run>> byVariant = new LinkedHashMap<>();
        for (Study.Cell c : cells) {
            List<Run> runs = byVariant.computeIfAbsent(c.variant(), v -> new ArrayList<>());
            JsonNode cell = CellRunner.readJson(c.dir().resolve(CellRunner.CELL));
            JsonNode summary = CellRunner.readJson(c.dir().resolve("summary.json"));
            if (cell == null || summary == null || !budget.isMet(cell)) continue;
            runs.add(new Run(c.seed(), c.dir(), summary.path("best_test_bpd").asDouble(),
                    summary.path("parameters").asLong(), summary.path("iterations").asLong(),
                    summary.path("train_seconds").asDouble(), cell.path("images_per_s").asDouble(),
                    cell.path("sample_seconds_64").asDouble(), cell.path("samples_finite").asBoolean(true),
                    cell.path("peak_rss_mb").asDouble(),
                    cell.path("rss_growth_mb").asDouble(),
                    curve(c.dir().resolve("metrics.jsonl"))));
        }
        List<Row> rows = new ArrayList<>();
        byVariant.forEach((v, runs) -> rows.add(new Row(v, List.copyOf(runs), seeds)));
        return new StudyResults(rows);
    }

    /**
     * The evaluations of a run as {iteration, training seconds, test bpd}. The trainer logs a training record
     * (with the cumulative {@code train_seconds}) just before each evaluation record of the same iteration; the
     * evaluation at iteration 0 comes before any training.
     */
    static List<double[]> curve(Path metrics) throws IOException {
        Map<Long, Double> seconds = new HashMap<>();
        seconds.put(0L, 0.0);
        List<double[]> out = new ArrayList<>();
        for (JsonNode n : MetricsLog.read(metrics)) {
            long it = n.path("iteration").asLong();
            if (n.has("train_seconds")) seconds.put(it, n.get("train_seconds").asDouble());
            if (n.has("test_bpd")) {
                double bpd = n.get("test_bpd").isNumber() ? n.get("test_bpd").asDouble() : Double.NaN; // null: not finite
                out.add(new double[] {it, seconds.getOrDefault(it, Double.NaN), bpd});
            }
        }
        return out;
    }

    static double mean(double[] v) {
        if (v.length == 0) return Double.NaN;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }
}
