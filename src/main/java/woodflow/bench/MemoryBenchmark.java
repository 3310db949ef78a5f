package woodflow.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.core.Init;
import woodflow.core.Jvm;
import woodflow.core.MachineInfo;
import woodflow.core.ProcessGroup;
import woodflow.core.ProcessMemory;
import woodflow.core.Tensors;
import woodflow.io.Csv;
import woodflow.io.MarkdownTable;
import woodflow.model.CouplingType;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.model.Permutation;
import woodflow.train.Backprop;
import woodflow.train.InvertibleBackprop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.time.Duration;

import static woodflow.core.Tensors.s;

/**
 * Peak resident memory and time per training iteration of a Woodbury-Glow with the standard backward
 * ({@code bitsPerDim(x).mean().backward()}) and with {@link InvertibleBackprop}, as depth K grows and at the CelebA-HQ
 * 128/256 preset sizes. Peak RSS (VmHWM of /proc/self/status) only grows within a process, so every (config, mode)
 * runs in a fresh child JVM on the same classpath, which prints one JSON line; this process collects them into a
 * Markdown table and a CSV.
 *
 * <p>Each child builds the float32 model (seeded), initialises ActNorm on a random batch, perturbs every parameter
 * (N(0, perturbation^2)) and runs the iterations: zero the gradients, loss and backward, then the update
 * {@code p -= lr * grad}. That update is a stand-in with Adam's memory traffic minus its two moment buffers (which
 * are the same in both modes); the trainer's Adam is elsewhere. The first iteration is a warm-up; the time is the
 * median of the rest. The invertible child reports every level's reconstruction drift in the last iteration and, with
 * {@code --drift-check}, how many level passes fell back to exact activations.
 *
 * <pre>
 *   woodflow bench memory [--configs k4,k8,k16,k32,celeba128,celeba256,drift32] [--iterations N] [--batch B]
 *        [--perturbation STD] [--drift-check TOLERANCE] [--out DIR] [--timeout SECONDS] [--threads N]
 * </pre>
 */
public final class MemoryBenchmark {
    /** What {@link #run} fills: a folder with its memory.csv (or an empty one). */
    public static final woodflow.io.OutputGuard.FolderKind FOLDER = new woodflow.io.OutputGuard.FolderKind(
            "a bench memory folder", dir -> Files.isRegularFile(dir.resolve("memory.csv")),
            " and is not a bench memory folder (no memory.csv)", List.of());

    /** One model and batch to measure. */
    public record Config(String name, int size, int levels, int steps, int hidden, int batch, int iterations,
                         double perturbation, double driftTolerance) {
        ModelConfig model() {
            return ModelConfig.of(3, size, size, levels, steps, hidden, Permutation.WOODBURY).withCoupling(CouplingType.AFFINE);
        }

        Config with(Integer iters, Integer b, Double p, Double tol) {
            return new Config(name, size, levels, steps, hidden, b == null ? batch : b,
                    iters == null ? iterations : iters, p == null ? perturbation : p,
                    tol == null ? driftTolerance : tol);
        }
    }

    /** Drift tolerance meaning "no check" (the drift is still measured after the fact). */
    static final double NO_CHECK = -1;

    /**
     * The measurements {@code --configs} names: K grows at 64x64 with 64 coupling channels; CelebA-HQ 128 and 256
     * (the paper's Table 2, batch 1); a drift check at 32x32.
     */
    public enum Preset implements Choice {
        K4(64, 4, 4, 64, 8, 6, 0.01),
        K8(64, 4, 8, 64, 8, 6, 0.01),
        K16(64, 4, 16, 64, 8, 6, 0.01),
        K32(64, 4, 32, 64, 8, 6, 0.01),
        CELEBA128(128, 5, 24, 256, 1, 3, 0.01),
        CELEBA256(256, 6, 16, 256, 1, 3, 0.01),
        DRIFT32(32, 3, 8, 128, 8, 3, 0.02);

        private final Config config;

        Preset(int size, int levels, int steps, int hidden, int batch, int iterations, double perturbation) {
            config = new Config(label(), size, levels, steps, hidden, batch, iterations, perturbation, NO_CHECK);
        }

        public Config config() {
            return config;
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /** The presets by name. */
    public static final Map<String, Config> PRESETS = presets();

    private static Map<String, Config> presets() {
        Map<String, Config> m = new LinkedHashMap<>();
        for (Preset p : Preset.values()) m.put(p.label(), p.config());
        return java.util.Collections.unmodifiableMap(m);
    }

    private static final String RESULT = "RESULT ";
    private static final int N_BINS = 32;
    private static final double LEARNING_RATE = 1e-5;
    private static final ObjectMapper JSON = woodflow.io.Json.MAPPER;

    private MemoryBenchmark() {}

    /**
     * The presets named in {@code names} (of {@link #PRESETS}), with the iterations, batch, perturbation and drift
     * tolerance replaced where given (null: the preset's).
     */
    public static List<Config> configs(List<String> names, Integer iterations, Integer batch, Double perturbation,
                                       Double driftTolerance) {
        List<Config> configs = new ArrayList<>();
        for (String name : names) {
            Config c = Choices.parse(Preset.class, name.strip(), "config").config();
            configs.add(c.with(iterations, batch, perturbation, driftTolerance));
        }
        return configs;
    }

    /**
     * Measures every config in both modes, each in a child JVM with {@code threads} libtorch threads stopped after
     * {@code timeoutSeconds}; prints the table and writes {@code memory.md} and {@code memory.csv} into {@code out}.
     */
    public static void run(List<Config> configs, long timeoutSeconds, int threads, Path out)
            throws IOException, InterruptedException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Config c : configs) {
            for (Backprop mode : Backprop.values()) {
                Map<String, Object> row = launch(c, mode, timeoutSeconds, Integer.toString(threads));
                System.err.println(JSON.writeValueAsString(row));
                rows.add(row);
            }
        }
        String md = markdown(rows);
        System.out.println(md);
        Files.createDirectories(out);
        woodflow.io.AtomicFiles.writeString(out.resolve("memory.md"), md);
        woodflow.io.AtomicFiles.writeString(out.resolve("memory.csv"), csv(rows));
        System.out.println("written " + out.resolve("memory.md") + " and " + out.resolve("memory.csv"));
    }

    /** A child's entry point: {@code --child CONFIG_JSON MODE}, one measurement printed as a RESULT line. */
    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !args[0].equals("--child")) {
            throw new IllegalArgumentException("the memory benchmark's measurement runs as a child of `woodflow bench memory` "
                    + "(--child CONFIG_JSON MODE); run that command instead");
        }
        Config c = JSON.readValue(args[1], Config.class);
        Map<String, Object> row;
        try {
            row = child(c, Backprop.parse(args[2]));
        } catch (RuntimeException e) {
            row = new LinkedHashMap<>(Map.of("config", c.name(), "mode", args[2], "error", String.valueOf(e)));
        }
        System.out.println(RESULT + JSON.writeValueAsString(row));
    }

    /** Runs one (config, mode) in a fresh JVM and returns its measurements, or the reason it has none. */
    static Map<String, Object> launch(Config c, Backprop mode, long timeoutSeconds, String threads)
            throws IOException, InterruptedException {
        ProcessBuilder pb = Jvm.child(MemoryBenchmark.class).options("-Xmx1g", "-XX:+UseSerialGC",
                        // JavaCPP would otherwise refuse allocations once RSS passes twice the heap limit.
                        "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dorg.bytedeco.javacpp.maxBytes=0",
                        "-Dwoodflow.threads=" + threads)
                .args("--child", JSON.writeValueAsString(c), mode.label()).processBuilder();
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("config", c.name());
        row.put("mode", mode.label());
        try (ProcessGroup group = new ProcessGroup()) {
            ProcessGroup.Child child = group.start(pb, ProcessGroup.Output.lines(lines::add));
            Integer code = child.waitFor(Duration.ofSeconds(timeoutSeconds));
            if (code == null) {
                child.kill();
                row.put("error", "timed out after " + timeoutSeconds + " s");
                return row;
            }
            for (String line : lines) {
                if (line.startsWith(RESULT)) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> r = JSON.readValue(line.substring(RESULT.length()), Map.class);
                    return r;
                }
            }
            row.put("error", "exit code " + code + ", no result");
            return row;
        }
    }

    /** One (config, mode) measured in this process: call it in a fresh JVM. */
    static Map<String, Object> child(Config c, Backprop mode) {
        Tensors.load();
        torch.manual_seed(1);
        MultiScaleFlow model = new MultiScaleFlow(c.model(), Init.float32());
        Tensor x = Tensors.keep(torch.rand(new long[] {c.batch(), 3, c.size(), c.size()},
                Init.float32().options()).sub(s(0.5)));
        InvertibleBackprop inv = new InvertibleBackprop(model);
        if (c.driftTolerance() >= 0) inv.withDriftCheck(c.driftTolerance(), null);
        try (PointerScope scope = new PointerScope()) {
            inv.evaluate(x, N_BINS); // ActNorm's data-dependent initialisation, one step at a time
            try (NoGradGuard g = new NoGradGuard()) {
                for (Tensor p : model.parameters()) {
                    try (PointerScope one = new PointerScope()) {
                        p.add_(torch.randn(Tensors.shape(p), Tensors.optionsLike(p)).mul(s(c.perturbation())));
                    }
                }
            }
        }
        allocateGradients(model);
        double baseline = ProcessMemory.residentMib();
        double[] seconds = new double[c.iterations()];
        double[] cpuSeconds = new double[c.iterations()];
        double loss = Double.NaN;
        for (int i = 0; i < c.iterations(); i++) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                long cpu0 = MachineInfo.processCpuNanos();
                for (Tensor p : model.parameters()) if (p.grad().defined()) p.grad().zero_();
                InvertibleBackprop.Result r = mode == Backprop.STANDARD
                        ? InvertibleBackprop.standard(model, x, N_BINS) : inv.backward(x, N_BINS);
                try (NoGradGuard g = new NoGradGuard()) {
                    for (Tensor p : model.parameters()) p.sub_(p.grad(), s(LEARNING_RATE));
                }
                seconds[i] = (System.nanoTime() - t0) / 1e9;
                cpuSeconds[i] = (MachineInfo.processCpuNanos() - cpu0) / 1e9;
                loss = r.loss();
            }
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("config", c.name());
        row.put("mode", mode.label());
        row.put("size", c.size());
        row.put("levels", c.levels());
        row.put("steps", c.steps());
        row.put("hidden", c.hidden());
        row.put("batch", c.batch());
        row.put("perturbation", c.perturbation());
        row.put("params_m", model.parameterCount() / 1e6);
        row.put("baseline_mb", baseline);
        row.put("peak_mb", ProcessMemory.peakMib());
        int from = c.iterations() > 1 ? 1 : 0;
        row.put("seconds_per_iter", Timing.median(Arrays.copyOfRange(seconds, from, seconds.length)));
        row.put("cpu_seconds_per_iter", Timing.median(Arrays.copyOfRange(cpuSeconds, from, cpuSeconds.length)));
        row.put("bpd", loss);
        if (mode == Backprop.INVERTIBLE) {
            row.put("drift_per_level", inv.lastDrift());
            row.put("fallbacks", inv.fallbacks());
        }
        return row;
    }

    /** Gives every parameter its gradient buffer (zeros) before the baseline, so activation_mb holds activations. */
    private static void allocateGradients(MultiScaleFlow model) {
        try (PointerScope scope = new PointerScope()) {
            Tensor total = null;
            for (Tensor p : model.parameters()) {
                Tensor t = p.sum().mul(s(0));
                total = total == null ? t : total.add(t);
            }
            if (total != null) total.backward();
        }
    }

    /** A column of the table: its name, and its value in a row (most are the row's field of that name). */
    private record Column(String name, java.util.function.Function<Map<String, Object>, Object> value) {
        static Column field(String name) {
            return new Column(name, row -> row.get(name));
        }
    }

    private static final List<Column> COLUMNS = List.of(Column.field("config"), Column.field("size"),
            Column.field("levels"), Column.field("steps"), Column.field("hidden"), Column.field("batch"),
            Column.field("perturbation"), Column.field("params_m"), Column.field("mode"), Column.field("baseline_mb"),
            Column.field("peak_mb"),
            new Column("activation_mb", MemoryBenchmark::activationMb),
            Column.field("seconds_per_iter"), Column.field("cpu_seconds_per_iter"), Column.field("bpd"),
            new Column("max_drift", row -> row.get("drift_per_level") instanceof List<?> l
                    ? l.stream().mapToDouble(MemoryBenchmark::num).max().orElse(Double.NaN) : null),
            Column.field("fallbacks"), Column.field("error"));

    private static List<String> columnNames() {
        return COLUMNS.stream().map(Column::name).toList();
    }

    /** The memory the iterations added: peak RSS minus RSS before the first iteration (null for a failed row). */
    private static Object activationMb(Map<String, Object> row) {
        return row.containsKey("peak_mb") ? num(row.get("peak_mb")) - num(row.get("baseline_mb")) : null;
    }

    private static double num(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double d) {
            double a = Math.abs(d);
            return a != 0 && (a < 1e-2 || a >= 1e5) ? String.format(Locale.ROOT, "%.2e", d)
                    : String.format(Locale.ROOT, "%.3f", d);
        }
        return v.toString();
    }

    static String csv(List<Map<String, Object>> rows) {
        return Csv.write(columnNames(), cells(rows));
    }

    private static List<List<?>> cells(List<Map<String, Object>> rows) {
        List<List<?>> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            List<String> cells = new ArrayList<>();
            for (Column col : COLUMNS) cells.add(format(col.value().apply(r)));
            out.add(cells);
        }
        return out;
    }

    /** The table of every run, then invertible / standard ratios per config. */
    static String markdown(List<Map<String, Object>> rows) {
        StringBuilder sb = new StringBuilder(MarkdownTable.of(columnNames(), cells(rows))).append('\n');
        List<List<?>> ratios = new ArrayList<>();
        Map<String, Map<String, Object>> std = new LinkedHashMap<>(), inv = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            (Backprop.parse((String) r.get("mode")) == Backprop.STANDARD ? std : inv).put((String) r.get("config"), r);
        }
        for (String name : std.keySet()) {
            Map<String, Object> a = std.get(name), b = inv.get(name);
            if (b == null || a.containsKey("error") || b.containsKey("error")) continue;
            ratios.add(List.of(name, format(num(b.get("peak_mb")) / num(a.get("peak_mb"))),
                    format(num(activationMb(b)) / num(activationMb(a))),
                    format(num(b.get("seconds_per_iter")) / num(a.get("seconds_per_iter"))),
                    format(num(b.get("cpu_seconds_per_iter")) / num(a.get("cpu_seconds_per_iter")))));
        }
        sb.append(MarkdownTable.of(List.of("config", "peak ratio (inv / std)", "activation ratio", "time ratio",
                "CPU time ratio"), ratios));
        sb.append("\nTimes are medians over the iterations after the first (a warm-up); CPU time is the process's, ")
                .append("steadier than wall time on a shared machine. Update rule: p -= lr * grad (a stand-in for ")
                .append("Adam; Adam's moment buffers would add the same memory to both modes). activation_mb = ")
                .append("peak RSS - RSS before the first iteration, when the parameters' gradients already exist.\n");
        return sb.toString();
    }
}
