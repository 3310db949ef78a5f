package woodflow.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Choice;
import woodflow.core.FlowLayer;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.MachineInfo;
import woodflow.core.ProcessMemory;
import woodflow.io.Csv;
import woodflow.io.MarkdownTable;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.picture.Plots;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's speed comparison (the paper's Table 1) on measured timings: every permutation layer, at several channel
 * counts and image sizes, in three directions — forward, inverse (the sampling direction) and forward+backward —
 * with the median and the minimum time after warm-up (enough calls that one burst of load on a shared host moves
 * neither; a row whose median is over 1.5x its minimum is flagged, beside the host's steal while it ran) and the peak
 * memory the operation adds. Writes {@code layers.csv}, a log-log
 * plot per direction (time against h*w, one line per layer and channel count) and {@code slopes.csv}: the fitted
 * exponent of time in h*w over the larger sizes, from which the complexities can be read off.
 *
 * <p>Peak memory is measured by resetting the kernel's high-water mark ({@code /proc/self/clear_refs}) before each
 * operation and reading {@code VmHWM} after it; run with a fixed malloc mmap threshold (the bench command starts a
 * child JVM with {@code MALLOC_MMAP_THRESHOLD_} set) so freed tensors return to the system between measurements.
 */
public final class LayerBench {
    /** What {@link #write} fills: a folder with its layers.csv (or an empty one). */
    public static final woodflow.io.OutputGuard.FolderKind FOLDER = new woodflow.io.OutputGuard.FolderKind(
            "a bench layers folder", dir -> Files.isRegularFile(dir.resolve("layers.csv")),
            " and is not a bench layers folder (no layers.csv)", List.of());

    /** The layers compared: every permutation layer with parameters, in the order of the paper's table. */
    public static final List<Permutation> LAYERS = List.of(Permutation.CONV1X1, Permutation.CONV1X1_LU,
            Permutation.EMERGING, Permutation.PERIODIC, Permutation.WOODBURY, Permutation.ME_WOODBURY);

    /** What is timed of a layer. */
    public enum Direction implements Choice {
        /** data to latent, without a graph */
        FORWARD {
            @Override
            void run(FlowLayer t, Tensor x, Tensor y) {
                try (NoGradGuard g = new NoGradGuard()) {
                    t.forward(x).out().sum().item_double();
                }
            }
        },
        /** latent to data (the sampling direction), without a graph */
        INVERSE {
            @Override
            void run(FlowLayer t, Tensor x, Tensor y) {
                try (NoGradGuard g = new NoGradGuard()) {
                    t.inverse(y).out().sum().item_double();
                }
            }
        },
        /** the forward with a graph and its backward into the parameters (a training step's part) */
        FORWARD_BACKWARD {
            @Override
            public String label() {
                return "forward+backward";
            }

            @Override
            void run(FlowLayer t, Tensor x, Tensor y) {
                for (Tensor p : t.parameters()) {
                    if (p.grad().defined()) p.grad().zero_();
                }
                FlowResult f = t.forward(x);
                f.out().sum().add(f.logDet().sum()).backward();
            }
        };

        @Override
        public String toString() {
            return label();
        }

        /** The direction's part of a file name ({@code layers-NAME.png}). */
        String fileName() {
            return label().replace('+', '-');
        }

        /** One timed call of {@code t} in this direction, from input {@code x} or output {@code y}. */
        abstract void run(FlowLayer t, Tensor x, Tensor y);
    }

    /** A row whose median is more than this times its minimum is flagged: the host was busy while it ran. */
    public static final double WIDE_SPREAD = 1.5;

    /**
     * One measurement: the median and the minimum of its timed calls, how many there were, the share of CPU time the
     * host gave to other tenants while they ran (steal, from /proc/stat; NaN where unknown) and the peak memory added.
     */
    public record Row(Permutation layer, int channels, int size, Direction direction, double medianMs, double minMs,
                      int calls, double stealPct, double peakMiB) {
        /** The median is more than {@link #WIDE_SPREAD} times the minimum: a burst of load moved the row. */
        public boolean wide() {
            return medianMs > WIDE_SPREAD * minMs;
        }
    }

    /**
     * Settings of a sweep: at least {@code repeats} timed calls per row after {@code warmup}, and more (up to ten
     * times as many) until they add up to {@code minSeconds}: a row of fast calls gets many, so one burst of load on
     * a shared host moves neither its minimum nor its median.
     */
    public record Settings(List<Permutation> layers, int[] channels, int[] sizes, int batch, int latentDim, int warmup,
                           int repeats, double budgetSeconds, double minSeconds) {}

    private LayerBench() {}

    /**
     * {@code woodflow bench layers}: the sweep with its header line (the CPU, the threads, the settings, the date),
     * then its files written into {@code dir} ({@link #write}) and the fitted slopes printed.
     */
    public static void runAndWrite(Settings s, int slopeFrom, Path dir, PrintStream log) throws IOException {
        log.printf(Locale.ROOT, "bench layers: %s, %d threads, batch %d, d %d (%s)%n", MachineInfo.cpuName(),
                torch.get_num_threads(), s.batch(), s.latentDim(), java.time.LocalDate.now());
        List<Row> rows = run(s, log);
        write(rows, slopeFrom, dir);
        log.println("slopes of the minimum time against h*w (sizes >= " + slopeFrom + "):");
        slopes(rows, slopeFrom).forEach((k, v) -> log.printf(Locale.ROOT, "  %-40s %.2f%n", k.replace('|', ' '), v));
        log.println("wrote " + dir.resolve("layers.csv") + ", slopes.csv and layers-*.png");
    }

    public static List<Row> run(Settings s, PrintStream log) {
        List<Row> rows = new ArrayList<>();
        for (Permutation layer : s.layers()) {
            if (!LAYERS.contains(layer)) {
                throw new IllegalArgumentException("layer '" + layer + "' has nothing to time: use some of "
                        + LAYERS.stream().map(Permutation::label).collect(java.util.stream.Collectors.joining(", ")));
            }
            for (int c : s.channels()) {
                boolean tooSlow = false;
                for (int size : s.sizes()) {
                    if (tooSlow) {
                        log.printf(Locale.ROOT, "%-12s c=%-3d %4dx%-4d skipped (over the time budget at a smaller "
                                + "size)%n", layer, c, size, size);
                        continue;
                    }
                    for (Direction dir : Direction.values()) {
                        Row r = measure(layer, c, size, dir, s);
                        rows.add(r);
                        log.printf(Locale.ROOT, "%-12s c=%-3d %4dx%-4d %-17s %10.3f ms (min %.3f, %d calls, steal "
                                        + "%.0f%%) %9.1f MiB%s%n", layer, c, size, size, dir, r.medianMs(), r.minMs(),
                                r.calls(), r.stealPct(), r.peakMiB(), r.wide() ? "  wide spread: the host was busy"
                                        : "");
                        if (r.medianMs() / 1000 * (s.warmup() + s.repeats()) > s.budgetSeconds()) tooSlow = true;
                    }
                }
            }
        }
        return rows;
    }

    static FlowLayer build(Permutation layer, int c, int size, int d) {
        int[] dims = {d};
        ModelConfig cfg = ModelConfig.of(c, size, size, 1, 1, 8, layer).withLatentDims(dims, dims, dims, dims);
        torch.manual_seed(1);
        return cfg.permutation().create(cfg, 0, c, size, size, Init.float32());
    }

    static Row measure(Permutation layer, int c, int size, Direction direction, Settings s) {
        FlowLayer t = build(layer, c, size, s.latentDim());
        t.train(true); // no cached inverses: every direction pays for its own d x d solves, as a 1x1 conv pays for W^-1
        int most = Math.max(s.repeats(), 10 * s.repeats());
        double[] times = new double[most];
        int calls = 0;
        double peak = 0, total = 0;
        long[] ticks = null;
        try (PointerScope outer = new PointerScope()) {
            Tensor x = torch.randn(new long[] {s.batch(), c, size, size});
            Tensor y;
            try (NoGradGuard g = new NoGradGuard()) {
                y = t.forward(x).out();
            }
            for (int i = 0; i < s.warmup() || calls < s.repeats() || (total < s.minSeconds() && calls < most); i++) {
                try (PointerScope scope = new PointerScope()) {
                    boolean timed = i >= s.warmup();
                    if (timed && ticks == null) ticks = MachineInfo.cpuTicks();
                    double base = timed ? ProcessMemory.resetPeak() : 0;
                    long t0 = System.nanoTime();
                    direction.run(t, x, y);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (timed) {
                        times[calls++] = ms;
                        total += ms / 1000;
                        peak = Math.max(peak, ProcessMemory.peakSince(base));
                    }
                }
            }
        }
        double[] timed = java.util.Arrays.copyOf(times, calls);
        return new Row(layer, c, size, direction, Timing.median(timed), java.util.Arrays.stream(timed).min().orElseThrow(),
                calls, MachineInfo.stealPercent(ticks, MachineInfo.cpuTicks()), peak);
    }

    /**
     * Least-squares slope of log(time) against log(h*w) over sizes >= minSize, per layer, channels, direction; fitted
     * to each row's minimum time, the one other processes on the host disturb least.
     */
    public static Map<String, Double> slopes(List<Row> rows, int minSize) {
        Map<String, List<double[]>> pts = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.size() < minSize || !(r.minMs() > 0)) continue;
            pts.computeIfAbsent(r.layer().label() + "|" + r.channels() + "|" + r.direction(), k -> new ArrayList<>())
                    .add(new double[] {Math.log((double) r.size() * r.size()), Math.log(r.minMs())});
        }
        Map<String, Double> out = new LinkedHashMap<>();
        pts.forEach((k, p) -> {
            if (p.size() < 2) return;
            double mx = 0, my = 0;
            for (double[] q : p) {
                mx += q[0] / p.size();
                my += q[1] / p.size();
            }
            double sxy = 0, sxx = 0;
            for (double[] q : p) {
                sxy += (q[0] - mx) * (q[1] - my);
                sxx += (q[0] - mx) * (q[0] - mx);
            }
            out.put(k, sxy / sxx);
        });
        return out;
    }

    /** Markdown tables: median ms per layer and size, one table per direction and channel count, then slopes. */
    public static String markdown(List<Row> rows, int minSlopeSize) {
        StringBuilder b = new StringBuilder();
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>(), chans = new java.util.TreeSet<>();
        java.util.LinkedHashSet<Permutation> layers = new java.util.LinkedHashSet<>();
        for (Row r : rows) {
            sizes.add(r.size());
            chans.add(r.channels());
            layers.add(r.layer());
        }
        Map<String, Double> slopes = slopes(rows, minSlopeSize);
        double[] steal = rows.stream().mapToDouble(Row::stealPct).filter(Double::isFinite).toArray();
        long wide = rows.stream().filter(Row::wide).count();
        int calls = rows.stream().mapToInt(Row::calls).min().orElse(0);
        b.append(String.format(Locale.ROOT, "%nEvery row: at least %d timed calls; the host's steal while a row ran: %s; "
                        + "%d of %d rows with a wide spread (†).%n", calls, steal.length == 0 ? "not measured"
                        : String.format(Locale.ROOT, "%.1f–%.1f%%", java.util.Arrays.stream(steal).min().orElse(0),
                        java.util.Arrays.stream(steal).max().orElse(0)), wide, rows.size()));
        for (Direction dir : Direction.values()) {
            for (int c : chans) {
                b.append("\n**").append(dir).append(", c = ").append(c)
                        .append("** (median / minimum ms; peak MiB; † the median is over 1.5× the minimum)\n\n");
                List<String> header = new ArrayList<>(List.of("layer"));
                for (int sz : sizes) header.add(sz + "×" + sz);
                header.add("slope vs h·w (≥" + minSlopeSize + ", of the minima)");
                List<List<?>> table = new ArrayList<>();
                for (Permutation layer : layers) {
                    List<String> cells = new ArrayList<>(List.of(layer.label()));
                    for (int sz : sizes) {
                        Row r = find(rows, layer, c, sz, dir);
                        cells.add(r == null ? "—" : String.format(Locale.ROOT, "%.3g / %.3g; %.1f%s", r.medianMs(),
                                r.minMs(), r.peakMiB(), r.wide() ? " †" : ""));
                    }
                    Double sl = slopes.get(layer.label() + "|" + c + "|" + dir);
                    cells.add(sl == null ? "—" : String.format(Locale.ROOT, "%.2f", sl));
                    table.add(cells);
                }
                b.append(MarkdownTable.of(header, table, 1));
            }
        }
        return b.toString();
    }

    private static Row find(List<Row> rows, Permutation layer, int c, int size, Direction dir) {
        for (Row r : rows) {
            if (r.layer() == layer && r.channels() == c && r.size() == size && r.direction() == dir) return r;
        }
        return null;
    }

    /** Writes layers.csv, slopes.csv, layers.md and one log-log PNG per direction into {@code dir}. */
    public static void write(List<Row> rows, int minSlopeSize, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<List<?>> csv = new ArrayList<>();
        for (Row r : rows) {
            csv.add(List.of(r.layer().label(), r.channels(), r.size(), r.size() * r.size(), r.direction().label(),
                    String.format(Locale.ROOT, "%.4f", r.medianMs()), String.format(Locale.ROOT, "%.4f", r.minMs()),
                    r.calls(), String.format(Locale.ROOT, "%.2f", r.stealPct()), r.wide(),
                    String.format(Locale.ROOT, "%.2f", r.peakMiB())));
        }
        woodflow.io.AtomicFiles.writeString(dir.resolve("layers.csv"), Csv.write(List.of("layer", "channels", "size",
                "hw", "direction", "median_ms", "min_ms", "calls", "steal_pct", "wide_spread", "peak_mib"), csv));
        List<List<?>> sl = new ArrayList<>();
        slopes(rows, minSlopeSize).forEach((k, v) -> {
            String[] f = k.split("\\|");
            sl.add(List.of(f[0], f[1], f[2], String.format(Locale.ROOT, "%.3f", v), minSlopeSize));
        });
        woodflow.io.AtomicFiles.writeString(dir.resolve("slopes.csv"), Csv.write(List.of("layer", "channels",
                "direction", "slope_vs_hw", "min_size"), sl));
        woodflow.io.AtomicFiles.writeString(dir.resolve("layers.md"), markdown(rows, minSlopeSize));
        for (Direction direction : Direction.values()) {
            Map<String, List<double[]>> series = new LinkedHashMap<>();
            for (Row r : rows) {
                if (r.direction() != direction) continue;
                series.computeIfAbsent(r.layer().label() + " c=" + r.channels(), k -> new ArrayList<>())
                        .add(new double[] {(double) r.size() * r.size(), r.minMs()});
            }
            List<Plots.Series> list = new ArrayList<>();
            series.forEach((k, v) -> list.add(Plots.series(k, v)));
            Plots.writeLinePng(dir.resolve("layers-" + direction.fileName() + ".png"),
                    "Permutation layers: " + direction + " (minimum ms)", "h*w (pixels)", "ms", list, true);
        }
    }
}
