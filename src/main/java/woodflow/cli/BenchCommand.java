package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.bench.LoaderBenchmark;
import woodflow.bench.MemoryBenchmark;
import woodflow.bench.TrainBench;
import woodflow.bench.LayerBench;
import woodflow.core.Jvm;
import woodflow.core.ProcessGroup;
import woodflow.distributed.LocalLauncher;
import woodflow.model.Permutation;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code woodflow bench}: speed and memory benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Speed and memory benchmarks (medians after warm-up; compare as ratios within one run).",
        subcommands = {BenchCommand.LayersBench.class, BenchCommand.Train.class, BenchCommand.Sample.class,
                BenchCommand.Loader.class, BenchCommand.MemoryBench.class})
public final class BenchCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Options shared by train and sample. */
    static class Target {
        @Option(names = "--preset", description = "A named preset (e.g. yardstick-c).")
        String preset;

        @Option(names = "--config", description = "A YAML/JSON run config file.")
        Path config;

        @Mixin
        PrecisionOption precision;

        @Option(names = "--batch", description = "Batch size (default: the config's).")
        Integer batch;

        @Option(names = "--json", description = "Append the result as one JSON line to this file.")
        Path json;

        @Mixin
        ForceOption overwrite;

        RunConfig resolve() {
            if ((preset == null) == (config == null)) {
                throw new IllegalArgumentException("give exactly one of --preset or --config");
            }
            if (json != null) {
                woodflow.io.OutputGuard.file("--json", json, woodflow.io.OutputGuard.FileKind.JSON_LINES,
                        overwrite.force, woodflow.io.OutputGuard.Input.of("--config", config));
            }
            RunConfig c = (preset != null ? Presets.load(preset) : RunConfig.read(config)).withClassesFromData();
            return c.withTrain(c.train().toBuilder().batch(batch).precision(precision.orConfig()).build()).validate();
        }

        void report(Map<String, Object> r) throws Exception {
            TrainBench.print(r, json, System.out);
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Images per second of a full training iteration (forward, backward, Adam), its parts, "
                    + "the model's GFLOP/s beside the machine's matmul rate, and peak memory.",
                    "Example: woodflow bench train --preset yardstick-c --precision bf16-mixed"})
    static final class Train implements Callable<Integer> {
        @Mixin
        Common common;
        @picocli.CommandLine.Mixin
        Target target = new Target();
        @Option(names = "--warmup", defaultValue = "3", description = "Untimed iterations first (default 3).")
        int warmup;
        @Option(names = "--iterations", defaultValue = "10", description = "Timed iterations (default 10).")
        int iterations;
        @Option(names = "--nproc", description = "Data-parallel: N ranks on this machine (child JVMs on 127.0.0.1, "
                + "each with its share of --threads) share each global batch; the all-reduce wait is reported apart. "
                + "Ranks started by another launcher (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) are joined as well.")
        Integer nproc;
        @Option(names = "--no-overlap", description = "Data-parallel: average the gradients after each backward "
                + "instead of during it.")
        boolean noOverlap;
        @Mixin
        BackpropOption backprop;
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            common.setUp();
            if (iterations < 1 || warmup < 0) throw new IllegalArgumentException("need --iterations >= 1, --warmup >= 0");
            RunConfig cfg = target.resolve();
            cfg = cfg.withTrain(cfg.train().toBuilder().backprop(backprop.orConfig()).build());
            int threads = common.threads != null ? common.threads : Runtime.getRuntime().availableProcessors();
            return TrainBench.run(cfg, common.device, warmup, iterations, nproc, threads, !noOverlap,
                    Main.class.getName(), nproc == null ? List.of()
                            : LocalLauncher.rankArgs(spec.commandLine().getParseResult().originalArgs(), "bench",
                            "train"), target.json, System.out);
        }
    }

    @Command(name = "sample", mixinStandardHelpOptions = true,
            description = {"Median seconds to sample N images at a temperature.",
                    "Example: woodflow bench sample --preset yardstick-c -n 64"})
    static final class Sample implements Callable<Integer> {
        @Mixin
        Common common;
        @picocli.CommandLine.Mixin
        Target target = new Target();
        @Option(names = {"-n", "--count"}, defaultValue = "64", description = "Images per sample call (default 64).")
        int count;
        @Option(names = "--temperature", defaultValue = "0.7", description = "Temperature (default 0.7).")
        double temperature;
        @Option(names = "--repeats", defaultValue = "5", description = "Timed repeats (default 5).")
        int repeats;

        @Override
        public Integer call() throws Exception {
            common.setUp();
            woodflow.model.Temperature.COMMAND_LINE.check(temperature);
            if (count < 1 || repeats < 1) throw new IllegalArgumentException("need --count >= 1 and --repeats >= 1");
            target.report(TrainBench.sample(target.resolve(), common.device, count, temperature, repeats));
            return 0;
        }
    }

    @Command(name = "loader", mixinStandardHelpOptions = true,
            description = {"Images per second the background loader delivers from a folder of JPEGs (generated, "
                    + "or --images DIR), decoded and resized to 64x64, in batches.",
                    "Example: woodflow bench loader --batch 32"})
    static final class Loader implements Callable<Integer> {
        @Mixin
        Common common;
        @Option(names = "--images", description = "A folder of images (default: 500 generated 96x96 JPEGs).")
        Path images;
        @Option(names = "--batch", defaultValue = "32", description = "Batch size (default 32).")
        int batch;
        @Option(names = "--workers", defaultValue = "2", description = "Decoding threads (default 2).")
        int workers;
        @Option(names = "--batches", defaultValue = "40", description = "Batches to time (default 40).")
        int batches;

        @Override
        public Integer call() throws Exception {
            common.setUp();
            double ips;
            if (images != null) {
                ips = LoaderBenchmark.run(images, batch, workers, batches);
            } else {
                ips = LoaderBenchmark.run(500, 96, batch, workers, batches);
            }
            System.out.printf(Locale.ROOT, "loader: %.0f images/s (64x64 from JPEG, batch %d, %d workers)%n", ips,
                    batch, workers);
            return 0;
        }
    }

    @Command(name = "layers", mixinStandardHelpOptions = true,
            description = {"Median and minimum time (forward, inverse, forward+backward) and peak memory of every "
                    + "permutation layer across channel counts and image sizes, with the host's steal and rows whose "
                    + "spread is wide flagged; CSV, log-log plots and fitted slopes.",
                    "Example: woodflow bench layers --channels 12,48 --sizes 8,16,32,64,128,256 --out bench-out/layers"})
    static final class LayersBench implements Callable<Integer> {
        @Mixin
        Common common;
        @Option(names = "--layers", split = ",", description = "Default: all (conv1x1, conv1x1-lu, emerging, "
                + "periodic, woodbury, me-woodbury).")
        List<Permutation> layers = LayerBench.LAYERS;
        @Option(names = "--channels", split = ",", defaultValue = "12,48", description = "Default 12,48.")
        int[] channels;
        @Option(names = "--sizes", split = ",", defaultValue = "8,16,32,64,128,256", description = "Image sides.")
        int[] sizes;
        @Option(names = "--batch", defaultValue = "1", description = "Images per call (default 1).")
        int batch;
        @Option(names = "--d", defaultValue = "16", description = "Woodbury latent dimensions (default 16).")
        int d;
        @Option(names = "--warmup", defaultValue = "2", description = "Untimed calls (default 2).")
        int warmup;
        @Option(names = "--repeats", defaultValue = "7", description = "Timed calls at least (default 7).")
        int repeats;
        @Option(names = "--min-seconds", defaultValue = "0.5", description = "More timed calls (up to ten times "
                + "--repeats) until a row's calls add up to this many seconds (default 0.5): on a shared host one "
                + "burst of load then moves neither the minimum nor the median.")
        double minSeconds;
        @Option(names = "--budget-seconds", defaultValue = "60", description = "Stop growing a layer's size once "
                + "one measurement takes longer than this (default 60).")
        double budget;
        @Option(names = "--slope-from", defaultValue = "32", description = "Fit slopes over sizes >= this (32).")
        int slopeFrom;
        @Option(names = "--out", defaultValue = "bench-out/layers", description = "Output folder.")
        Path out;
        @Option(names = "--in-process", description = "Do not start a child JVM with a fixed malloc mmap threshold "
                + "(peak memory is then less exact).")
        boolean inProcess;

        @Override
        public Integer call() throws Exception {
            if (!inProcess && System.getenv("MALLOC_MMAP_THRESHOLD_") == null) return Child.rerun(this);
            common.setUp();
            woodflow.io.OutputGuard.folder("--out", out, woodflow.bench.LayerBench.FOLDER);
            if (batch < 1 || repeats < 1 || warmup < 0 || d < 1 || !(minSeconds >= 0)) {
                throw new IllegalArgumentException("need --batch >= 1, --repeats >= 1, --warmup >= 0, --d >= 1, "
                        + "--min-seconds >= 0");
            }
            var settings = new LayerBench.Settings(layers, channels, sizes, batch, d, warmup, repeats, budget,
                    minSeconds);
            LayerBench.runAndWrite(settings, slopeFrom, out, System.out);
            return 0;
        }
    }

    /** Re-runs this command line in a child JVM with a fixed malloc mmap threshold (exact peak memory). */
    static final class Child {
        private Child() {}

        static int rerun(Object command) throws Exception {
            ProcessBuilder pb = Jvm.child(Main.class).everyOption()
                    .args(ProcessHandle.current().info().arguments().map(a -> tail(a)).orElse(new String[0]))
                    .environment("MALLOC_MMAP_THRESHOLD_", "131072").processBuilder();
            try (ProcessGroup child = new ProcessGroup()) {
                return child.start(pb, ProcessGroup.Output.inherit()).waitFor();
            }
        }

        /** The user's arguments: everything after the main class or jar in this JVM's command line. */
        private static String[] tail(String[] all) {
            for (int i = 0; i < all.length; i++) {
                if (all[i].equals("-jar") || all[i].equals("woodflow.cli.Main")) {
                    int from = all[i].equals("-jar") ? i + 2 : i + 1;
                    return java.util.Arrays.copyOfRange(all, from, all.length);
                }
            }
            return new String[0];
        }
    }

    @Command(name = "memory", mixinStandardHelpOptions = true,
            description = {"Peak resident memory and time per iteration of standard and invertible backpropagation "
                    + "while K grows and at the CelebA-HQ 128/256 sizes (one child JVM per measurement).",
                    "Example: woodflow bench memory --configs k4,k8,k16,k32 --batch 2 --out bench-out/memory"})
    static final class MemoryBench implements Callable<Integer> {
        @Option(names = "--configs", split = ",", defaultValue = "k4,k8,k16,k32,celeba128,celeba256",
                description = "Measurements, of k4, k8, k16, k32 (K steps at 64x64), celeba128, celeba256, drift32 "
                        + "(default: all but drift32).")
        List<String> configs;
        @Option(names = "--iterations", description = "Iterations per measurement, the first a warm-up (default: "
                + "the config's).")
        Integer iterations;
        @Option(names = "--batch", description = "Batch size (default: the config's).")
        Integer batch;
        @Option(names = "--perturbation", description = "Std of the noise added to every parameter (default: the "
                + "config's).")
        Double perturbation;
        @Option(names = "--drift-check", description = "Check each level's drift against this tolerance and fall "
                + "back to exact activations over it (default: measured only).")
        Double driftCheck;
        @Option(names = "--out", defaultValue = "target/bench", description = "Output folder (default target/bench).")
        Path out;
        @Option(names = "--timeout", defaultValue = "600", description = "Seconds before a child is stopped "
                + "(default 600).")
        long timeout;
        @Option(names = "--threads", description = "libtorch threads of each child (default: all cores).")
        Integer threads;

        @Override
        public Integer call() throws Exception {
            if (threads != null && threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
            woodflow.io.OutputGuard.folder("--out", out, MemoryBenchmark.FOLDER);
            MemoryBenchmark.run(MemoryBenchmark.configs(configs, iterations, batch, perturbation, driftCheck),
                    timeout, threads != null ? threads : Runtime.getRuntime().availableProcessors(), out);
            return 0;
        }
    }
}
