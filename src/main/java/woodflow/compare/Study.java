package woodflow.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import woodflow.core.MachineInfo;
import woodflow.io.AtomicFiles;
import woodflow.io.OutputGuard;
import woodflow.train.RunConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * A comparison or an ablation: every variant trained with every seed under one budget, then the table, plots and
 * report of {@link StudyReport}. The study's folder holds nothing but its runs and its outputs:
 * <pre>
 *   OUT/runs/NAME-sSEED/   one normal run folder per (variant, seed), trained by {@link CellRunner} in a child JVM
 *   OUT/results.md, results.csv, bpd-vs-iterations.png, bpd-vs-time.png, samples/NAME.png, report.html
 * </pre>
 * Running the same study again continues it: runs whose {@code cell.json} shows the budget used are skipped, the
 * others resume from their newest checkpoint (so a larger budget extends finished runs instead of restarting them).
 * A run folder made with a different config is an error, never silently reused.
 */
public final class Study {
    /** One (variant, seed) run. */
    public record Cell(Variant variant, long seed, Path dir, RunConfig config) {}

    private final String title;
    private final Ablation.Parameter ablated;
    private final RunConfig base;
    private final List<Variant> variants;
    private final List<Long> seeds;
    private final Budget budget;
    private final Path out;
    private final String command;
    private final PrintStream log;
    private final String date = LocalDate.now().toString();
    private final String machine = machineNow();

    /**
     * @param ablated     the parameter an ablation varies, or null for a comparison of methods
     * @param base        the config every variant derives from (for the report)
     * @param command     the command line that made the study (for the report)
     */
    public Study(String title, Ablation.Parameter ablated, RunConfig base, List<Variant> variants, List<Long> seeds,
                 Budget budget, Path out, String command, PrintStream log) {
        if (variants.isEmpty()) throw new IllegalArgumentException("a study needs at least one variant");
        if (seeds.isEmpty()) throw new IllegalArgumentException("a study needs at least one seed");
        this.title = title;
        this.ablated = ablated;
        this.base = base;
        this.variants = List.copyOf(variants);
        this.seeds = List.copyOf(seeds);
        this.budget = budget;
        this.out = out;
        this.command = command;
        this.log = log;
    }

    /**
     * A study folder: its {@code runs/} folder holds only run folders (each with the config.yaml a study writes
     * first); the tables, plots and report lie beside it.
     */
    public static final OutputGuard.FolderKind FOLDER = new OutputGuard.FolderKind("a woodflow study folder",
            dir -> {
                Path runs = dir.resolve("runs");
                if (!Files.isDirectory(runs)) return false;
                try (java.util.stream.Stream<Path> s = Files.list(runs)) {
                    return s.allMatch(r -> Files.isRegularFile(r.resolve("config.yaml")));
                } catch (IOException e) {
                    return false;
                }
            }, " and is not a woodflow study folder (a runs/ folder of run folders)", List.of());

    /** Checks {@code out} as the folder of a study of {@code base} (read from {@code baseFile}, or a preset). */
    public static Path checkOut(String option, Path out, Path baseFile, RunConfig base) {
        return OutputGuard.folder(option, out, FOLDER, OutputGuard.Input.of("--base", baseFile),
                OutputGuard.Input.of("data.path", base.data().kind() == woodflow.data.DataKind.EMBEDDED ? null
                        : base.data().path()));
    }

    /** Seeds {@code first, first + 1, ..., first + n - 1}. */
    public static List<Long> seeds(long first, int n) {
        if (n < 1) throw new IllegalArgumentException("--seeds must be at least 1, got " + n);
        List<Long> s = new ArrayList<>();
        for (int i = 0; i < n; i++) s.add(first + i);
        return s;
    }

    public String title() {
        return title;
    }

    /** What the variants are, as the table's first column names them: "method", or the ablated parameter. */
    public String firstColumn() {
        return ablated == null ? "method" : ablated.label();
    }

    /** The parameter an ablation varies, or null for a comparison of methods. */
    public Ablation.Parameter ablated() {
        return ablated;
    }

    public RunConfig base() {
        return base;
    }

    public List<Long> seeds() {
        return seeds;
    }

    public Budget budget() {
        return budget;
    }

    public Path out() {
        return out;
    }

    public String command() {
        return command;
    }

    public String date() {
        return date;
    }

    /** The cores, libtorch threads and load average when the study started: timings depend on them. */
    public String machine() {
        return machine;
    }

    private static String machineNow() {
        String load = MachineInfo.loadAverage();
        return Runtime.getRuntime().availableProcessors() + " cores, " + Integer.getInteger("woodflow.threads",
                Runtime.getRuntime().availableProcessors()) + " libtorch thread(s) per run, load average " + load
                + " at the start";
    }

    public List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        for (Variant v : variants) {
            for (long seed : seeds) {
                RunConfig c = v.config();
                RunConfig cfg = c.withTrain(budget.apply(c.train().toBuilder().seed(seed).build())).validate();
                cells.add(new Cell(v, seed, out.resolve("runs").resolve(v.name() + "-s" + seed), cfg));
            }
        }
        return cells;
    }

    /** What {@link #run} ended with: the results and the runs that failed (with their reasons). */
    public record Outcome(StudyResults results, List<String> failures) {}

    /** Trains every unfinished run, one after another, then writes the table, plots and report. */
    public Outcome run() throws IOException, InterruptedException {
        List<Cell> cells = cells();
        for (Cell c : cells) checkSameConfig(c);
        List<String> failures = new ArrayList<>();
        int i = 0;
        for (Cell c : cells) {
            i++;
            String name = c.dir().getFileName().toString();
            JsonNode done = CellRunner.readJson(c.dir().resolve(CellRunner.CELL));
            if (done != null && budget.isMet(done)) {
                log.printf(Locale.ROOT, "[%d/%d] %s: finished earlier (%d iterations, best test bpd %s)%n", i,
                        cells.size(), name, done.path("iterations").asLong(), bpd(done));
                continue;
            }
            AtomicFiles.writeString(c.dir().resolve("config.yaml"), c.config().toYaml());
            log.printf(Locale.ROOT, "[%d/%d] %s: %s (log: %s)%n", i, cells.size(), name,
                    done != null || Files.exists(c.dir().resolve("checkpoints")) ? "resuming" : "training",
                    c.dir().resolve("train.log"));
            long t0 = System.nanoTime();
            ChildJvm.Outcome o = ChildJvm.run(c.dir(), budget);
            JsonNode cell = CellRunner.readJson(c.dir().resolve(CellRunner.CELL));
            if (o.ok() && cell != null && budget.isMet(cell)) {
                log.printf(Locale.ROOT, "[%d/%d] %s: %d iterations, best test bpd %s, %.1f images/s (%.0f s)%n", i,
                        cells.size(), name, cell.path("iterations").asLong(), bpd(cell),
                        cell.path("images_per_s").asDouble(), (System.nanoTime() - t0) / 1e9);
            } else {
                String why = name + " failed (exit code " + o.exitCode() + "): " + o.lastLine();
                failures.add(why);
                log.println("[" + i + "/" + cells.size() + "] " + why);
            }
        }
        StudyResults results = StudyResults.collect(cells, budget, seeds.size());
        StudyReport.write(this, results);
        log.println("results: " + out.resolve("results.md") + ", " + out.resolve("results.csv") + ", "
                + out.resolve("report.html"));
        return new Outcome(results, failures);
    }

    /** A cell's best test bpd as printed: "not measured" for none (null, or an older "NaN"), never 0 or NaN. */
    private static String bpd(JsonNode cell) {
        JsonNode b = cell.path("best_test_bpd");
        return woodflow.core.Figures.bpd(b.isNumber() ? b.asDouble() : Double.NaN);
    }

    /** An existing run folder must hold the same run, apart from its iteration count (a budget can grow). */
    private void checkSameConfig(Cell c) {
        Path file = c.dir().resolve("config.yaml");
        if (!Files.exists(file)) return;
        RunConfig old = RunConfig.read(file);
        JsonNode a = withoutIterations(old), b = withoutIterations(c.config());
        if (!a.equals(b)) {
            throw new IllegalStateException("run folder " + c.dir() + " was trained with a different config ("
                    + firstDifference(a, b, "") + "): use another --out, or delete that folder to retrain it");
        }
    }

    private static JsonNode withoutIterations(RunConfig c) {
        ObjectNode n = (ObjectNode) RunConfig.JSON.valueToTree(c);
        ((ObjectNode) n.get("train")).remove("iterations");
        return n;
    }

    private static String firstDifference(JsonNode a, JsonNode b, String path) {
        if (a != null && b != null && a.isObject() && b.isObject()) {
            for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!b.get(k).equals(a.get(k))) return firstDifference(a.get(k), b.get(k), path.isEmpty() ? k
                        : path + "." + k);
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!b.has(k)) return (path.isEmpty() ? k : path + "." + k) + " was " + a.get(k);
            }
        }
        return path + " was " + a + ", now " + b;
    }
}
