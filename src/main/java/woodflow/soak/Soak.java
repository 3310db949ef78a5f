package woodflow.soak;

import woodflow.core.Jvm;
import woodflow.core.ProcessGroup;
import woodflow.core.Tensors;
import woodflow.data.Splits;
import woodflow.train.Checkpoint;
import woodflow.train.CheckpointStore;
import woodflow.train.MetricsLog;
import woodflow.train.RunConfig;
import woodflow.train.RunLock;
import woodflow.train.Trainer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The crash-safety soak: trains a run in child JVMs and kills each with SIGKILL at a chosen kind of moment (during
 * training, in the middle of writing a checkpoint, in the middle of an evaluation's writes, during start-up), N times;
 * checks after every kill that the folder holds no torn checkpoint, a readable metrics file and no stale lock; then
 * finishes the run in this process with resume and compares it with an uninterrupted run of the same config: final
 * and best checkpoints bit for bit, metrics record for record (timings aside). Children run with the same libtorch
 * thread count as this process, so both do the same arithmetic. {@code woodflow soak} (cli.SoakCommand) parses the
 * options and runs one.
 *
 * <pre>
 *   OUT/soak.yaml          the config both runs train
 *   OUT/interrupted/       the run killed and resumed N times, finished here
 *   OUT/reference/         the uninterrupted run
 *   OUT/logs/cycle-N.txt   each child's output
 * </pre>
 */
public final class Soak {
    /** Where a child is killed: the moment, as the log says it, and the write the child pauses in (or none). */
    enum Phase {
        TRAINING("during training", null),
        CHECKPOINT("while writing a checkpoint", "ckpt-"),
        EVALUATION("during an evaluation's writes", "summary.json"),
        STARTUP("during start-up", null);

        private final String description;
        private final String pausedWrite;

        Phase(String description, String pausedWrite) {
            this.description = description;
            this.pausedWrite = pausedWrite;
        }

        /**
         * The write the child pauses in for {@link #PAUSE_MILLIS} (its {@code -Dwoodflow.slowWrites}), so that it is
         * killed there; null for none.
         */
        String slowWrites() {
            return pausedWrite == null ? null : pausedWrite + ":" + PAUSE_MILLIS;
        }
    }

    /** The default run: a tiny model on the embedded data, quick to train and to kill. */
    static final String TINY = """
            description: soak test run (tiny model, embedded data)
            model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, permutation: woodbury,
                    d_c: [2, 2], d_s: [4, 4]}
            data: {kind: embedded, count: 256, holdout: 32, n_bits: 8}
            train: {batch: 8, iterations: 60, eval_every: 10, checkpoint_every: 5, log_every: 5, keep_checkpoints: 2,
                    seed: 7}
            """;
    /** How long a paused write lasts: the window in which the child is killed. */
    private static final long PAUSE_MILLIS = 4000;
    private static final long TIMEOUT_MILLIS = 600_000;

    private final RunConfig cfg;
    private final Path out;
    private final int cycles;
    private final int total;
    private final long seed;
    private final String cli;

    private Soak(RunConfig cfg, Path out, int cycles, int total, long seed, String cli) {
        this.cli = cli;
        this.cfg = cfg;
        this.out = out;
        this.cycles = cycles;
        this.total = total;
        this.seed = seed;
    }

    /** The default run: a tiny model on the embedded data. */
    public static RunConfig tinyConfig() {
        try {
            return RunConfig.YAML.readValue(new ByteArrayInputStream(TINY.getBytes(StandardCharsets.UTF_8)),
                    RunConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A soak of {@code base} over {@code cycles} kills into the empty or new folder {@code out}, with the kill times
     * drawn from {@code seed}: {@code iterations} in all (default: the config's, and at least 4 per cycle); where the
     * config would checkpoint less than once per cycle it checkpoints and evaluates about twice per cycle. {@code data}
     * opens a config's data sets (for the runs finished in this process); the children run {@code cli}'s main class
     * as {@code train --config FILE --out RUN --resume --no-report --quiet --threads N}.
     */
    public static Soak of(RunConfig base, Integer iterations, int cycles, long seed, Path out, Class<?> cli)
            throws IOException {
        if (cycles < 1) throw new IllegalArgumentException("--cycles must be at least 1, got " + cycles);
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " is not empty; give a new folder");
                }
            }
        }
        int total = iterations != null ? iterations : Math.max(base.train().iterations(), 4 * cycles);
        RunConfig cfg = base.withTrain(base.train().toBuilder().iterations(total).build()).validate();
        // a kill can only be resumed from a checkpoint: with a long preset's intervals (demo: 250) a short soak would
        // write none before the end, so where there is less than one per cycle, checkpoint and evaluate about twice
        // per cycle
        int every = Math.max(1, total / (2 * cycles));
        if (cfg.train().checkpointEvery() > Math.max(1, total / cycles)) {
            cfg = cfg.withTrain(cfg.train().toBuilder().evalEvery(Math.min(every, cfg.train().evalEvery()))
                    .checkpointEvery(Math.min(every, cfg.train().checkpointEvery())).build()).validate();
        }
        return new Soak(cfg, out, cycles, total, seed, cli.getName());
    }

    /**
     * Runs the soak: the cycles of train / kill -9 / inspect, then the resume in this process and the comparison
     * with an uninterrupted run, with {@code threads} libtorch threads (null: this process's), the children too.
     * Returns 0, or throws naming what failed.
     */
    public int run(Integer threads) throws Exception {
        int previous = threads != null ? Tensors.threads(threads) : Tensors.threads();
        try {
            return run();
        } finally {
            Tensors.threads(previous);
        }
    }

    private int run() throws Exception {
        Files.createDirectories(out);
        Path cfgFile = out.resolve("soak.yaml");
        Files.writeString(cfgFile, cfg.toYaml());
        Path reference = out.resolve("reference"), run = out.resolve("interrupted");
        int threads = Tensors.threads();
        System.out.printf(Locale.ROOT, "soak: %d cycles of train / kill -9 / resume, %d iterations (checkpoint "
                + "every %d), %d libtorch thread(s); folder %s%n", cycles, total, cfg.train().checkpointEvery(),
                threads, out);
        Random rng = new Random(seed);
        Map<Phase, Integer> kills = new EnumMap<>(Phase.class);
        int finishedEarly = 0, tornLines = 0;
        Set<Path> temporaries = new HashSet<>();
        CheckpointStore store = new CheckpointStore(run, cfg.train().keepCheckpoints());
        try (ProcessGroup children = new ProcessGroup()) {
            for (int c = 1; c <= cycles; c++) {
                Phase phase = Phase.values()[(c - 1) % Phase.values().length];
                long start = newest(store);
                Child child = Child.start(children, cli, cfgFile, run, threads, phase.slowWrites(),
                        out.resolve("logs/cycle-" + c + ".txt"));
                boolean reached = switch (phase) {
                    case TRAINING -> child.await(() -> newestQuietly(store) > start);
                    case CHECKPOINT -> child.await(() -> hasTemporary(store.dir(), "ckpt-"));
                    case EVALUATION -> child.await(() -> hasTemporary(run, "summary.json"));
                    case STARTUP -> child.await(() -> false, 100 + rng.nextInt(2500));
                };
                if (reached && phase != Phase.STARTUP) Thread.sleep(rng.nextInt(phase == Phase.TRAINING ? 400 : 300));
                boolean killed = child.kill();
                if (killed) {
                    kills.merge(phase, 1, Integer::sum);
                } else {
                    finishedEarly++;
                }
                Inspection in = inspect(run, store);
                tornLines += in.tornLine ? 1 : 0;
                temporaries.addAll(in.temporaries);
                System.out.printf(Locale.ROOT, "cycle %d: %s; newest checkpoint %d -> %d (%d intact)%s%s%n", c,
                        killed ? "killed " + phase.description : "ran to the end before the kill point", start,
                        newest(store), in.checkpoints, in.tornLine ? ", torn metrics line" : "",
                        in.temporaries.isEmpty() ? "" : ", " + in.temporaries.size()
                                + " temporary file(s) of killed writers");
            }
        }
        long resumedFrom = newest(store);
        Trainer.Result finalRun = train(cfg, run, true);
        Trainer.Result referenceRun = train(cfg, reference, false);
        System.out.printf(Locale.ROOT, "final: resumed in this process from iteration %d, finished at %d; "
                + "uninterrupted reference run finished at %d%n", resumedFrom, finalRun.iterations(),
                referenceRun.iterations());
        RunComparison.Report r = RunComparison.compare(reference, run, total);
        if (finalRun.iterations() != total) r.differences().add("the resumed run ended at " + finalRun.iterations());
        if (!r.identical()) {
            r.differences().forEach(d -> System.out.println("difference: " + d));
            throw new IllegalStateException("soak failed: the killed and resumed run differs from the uninterrupted "
                    + "one in " + r.differences().size() + " place(s), first: " + r.differences().get(0));
        }
        int totalKills = kills.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf(Locale.ROOT, "identical: %d tensors bit for bit (final and best checkpoints: parameters, "
                + "buffers, Adam moments) and %d metrics records (timings aside)%n", r.tensors(), r.metricsRecords());
        System.out.printf(Locale.ROOT, "soak passed: %d kills (%s), %d runs ended before their kill point, %d torn "
                + "metrics lines and %d temporary files cleaned up on resume, no corrupt checkpoint, no stale lock, "
                + "nothing lost%n", totalKills, kills.toString().replaceAll("[{}]", "").toLowerCase(Locale.ROOT),
                finishedEarly, tornLines, temporaries.size());
        return 0;
    }

    private Trainer.Result train(RunConfig cfg, Path dir, boolean resume) throws IOException {
        try (Splits data = cfg.openData()) {
            Trainer t = new Trainer(cfg, dir, data.train(), data.test(), System.out, true);
            Trainer.Result r = t.run(resume);
            t.finish();
            return r;
        }
    }

    private static long newest(CheckpointStore store) throws IOException {
        List<Path> all = store.list();
        return all.isEmpty() ? 0 : Checkpoint.read(all.get(0)).state().iteration();
    }

    private static long newestQuietly(CheckpointStore store) {
        try {
            List<Path> all = store.list();
            return all.isEmpty() ? 0 : Long.parseLong(all.get(0).getFileName().toString().replaceAll("\\D", ""));
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean hasTemporary(Path dir, String part) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("." + part)
                    && p.getFileName().toString().contains(".tmp-"));
        } catch (IOException e) {
            return false;
        }
    }

    /** What a kill left behind. */
    private record Inspection(int checkpoints, boolean tornLine, List<Path> temporaries) {}

    /**
     * Checks the folder right after a kill: the lock is free, every checkpoint file reads back intact (checksums),
     * and the metrics file parses (at most its last line torn).
     */
    private static Inspection inspect(Path run, CheckpointStore store) throws IOException {
        try (RunLock lock = RunLock.acquire(run)) {
            List<Path> files = new ArrayList<>(store.list());
            if (Files.exists(store.best())) files.add(store.best());
            for (Path f : files) Checkpoint.read(f); // throws, naming the file, if a kill tore it
            Path metrics = run.resolve("metrics.jsonl");
            MetricsLog.read(metrics);
            boolean torn = Files.exists(metrics) && Files.size(metrics) > 0
                    && !Files.readString(metrics).endsWith("\n");
            List<Path> temps = new ArrayList<>();
            for (Path d : List.of(run, store.dir(), run.resolve("samples"))) {
                if (!Files.isDirectory(d)) continue;
                try (Stream<Path> s = Files.list(d)) {
                    s.filter(p -> p.getFileName().toString().contains(".tmp-")).forEach(temps::add);
                }
            }
            return new Inspection(files.size(), torn, temps);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("soak failed: the killed trainer left its lock behind: " + e.getMessage());
        }
    }

    /** A trainer in a child JVM with this process's class path, its output in {@code log}. */
    private record Child(ProcessGroup.Child process, Path log) {
        static Child start(ProcessGroup group, String cli, Path cfgFile, Path run, int threads, String slowWrites,
                           Path log) throws IOException {
            // This JVM's flags, plus the quick-start JIT and the serial collector: a child mostly starts up and
            // waits in libtorch, so this saves CPU time without changing any arithmetic (which is in libtorch).
            Jvm.Child child = Jvm.child(cli).options("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
            if (slowWrites != null) child.options("-Dwoodflow.slowWrites=" + slowWrites);
            child.args("train", "--config", cfgFile.toString(), "--out", run.toString(), "--resume", "--no-report",
                    "--quiet", "--threads", Integer.toString(threads));
            return new Child(group.start(child.processBuilder(), ProcessGroup.Output.file(log)), log);
        }

        /** Waits until {@code reached} holds (true) or the child ends by itself (false). */
        boolean await(BooleanSupplier reached) throws Exception {
            return await(reached, TIMEOUT_MILLIS) || failIfTimedOut();
        }

        /** Waits until {@code reached} holds, the child ends, or {@code millis} pass; true if reached. */
        boolean await(BooleanSupplier reached, long millis) throws Exception {
            long deadline = System.currentTimeMillis() + millis;
            while (System.currentTimeMillis() < deadline && process.isAlive()) {
                if (reached.getAsBoolean()) return true;
                Thread.sleep(20);
            }
            return false;
        }

        private boolean failIfTimedOut() throws Exception {
            if (process.isAlive()) {
                process.kill();
                throw new IllegalStateException("soak failed: a child trainer did not reach its kill point in "
                        + TIMEOUT_MILLIS / 1000 + " s; see " + log);
            }
            return false;
        }

        /** SIGKILLs the child; false if it had already ended by itself (successfully, else the soak fails). */
        boolean kill() throws Exception {
            boolean alive = process.isAlive();
            int code = process.kill();
            if (!alive && code != 0) {
                String tail = Files.readString(log).strip();
                throw new IllegalStateException("soak failed: a child trainer exited with code " + code + ": "
                        + tail.substring(tail.lastIndexOf('\n') + 1) + " (log " + log + ")");
            }
            return alive;
        }
    }
}
