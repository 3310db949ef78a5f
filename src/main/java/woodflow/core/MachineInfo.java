package woodflow.core;

import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a speed, likelihood or correctness figure depends on, read once: the CPU (model name, family/model, the
 * vector ISA, AMX), the threads, and the versions of libtorch and of its oneDNN. Every figure woodflow reports names
 * these, since kernels (and their bugs) are chosen per CPU.
 */
public record MachineInfo(String cpuModel, int family, int model, List<String> isa, boolean amx, int cores,
                          int threads, String libtorch, String onednn, String atenCapability) {
    private static final List<String> ISA_FLAGS = List.of("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni",
            "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8");

    /** The CPU as /proc/cpuinfo describes its first processor, read once: what kernels are chosen by. */
    private record Cpu(String name, int family, int model, Set<String> flags) {
        static final Cpu THIS = read();

        private static Cpu read() {
            String name = "unknown CPU";
            int family = -1, model = -1;
            Set<String> flags = Set.of();
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    int colon = line.indexOf(':');
                    if (colon < 0) continue;
                    String k = line.substring(0, colon).strip(), v = line.substring(colon + 1).strip();
                    if (k.equals("model name") && name.startsWith("unknown")) name = v;
                    else if (k.equals("cpu family") && family < 0) family = number(v);
                    else if (k.equals("model") && model < 0) model = number(v);
                    else if (k.equals("flags") && flags.isEmpty()) flags = Set.of(v.split("\\s+"));
                    if (line.isBlank() && !flags.isEmpty()) break;
                }
            } catch (IOException e) {
                // not Linux, or an unusual /proc: the fields stay unknown
            }
            return new Cpu(name, family, model, flags);
        }

        private static int number(String v) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    public static MachineInfo read() {
        Tensors.load();
        Cpu cpu = Cpu.THIS;
        List<String> isa = new ArrayList<>();
        for (String f : ISA_FLAGS) if (cpu.flags().contains(f)) isa.add(f);
        String config = torch.show_config().getString();
        return new MachineInfo(cpu.name(), cpu.family(), cpu.model(), isa, cpu.flags().contains("amx_tile"),
                Runtime.getRuntime().availableProcessors(), torch.get_num_threads(),
                find(config, "TORCH_VERSION=([^,\\s]+)", "?"), torch.get_mkldnn_version().getString()
                .replace("Intel(R) MKL-DNN ", "oneDNN ").replaceAll(" \\(Git Hash.*", ""),
                find(config, "CPU capability usage: (\\S+)", "?"));
    }

    /** The CPU's model name, e.g. {@code Intel(R) Xeon(R) Platinum 8488C} ("unknown CPU" where /proc says none). */
    public static String cpuName() {
        return Cpu.THIS.name();
    }

    /** The first processor's flags ({@code avx2}, {@code avx512_bf16}, {@code amx_tile}, ...); empty when unknown. */
    public static Set<String> cpuFlags() {
        return Cpu.THIS.flags();
    }

    /**
     * The machine's CPU time counters from /proc/stat (all cores, in clock ticks): {@code [total, steal]}, or null
     * where /proc is not available. Steal is time a virtual machine's CPUs were ready to run but the host ran
     * something else: on a shared host it is the part of a benchmark's wall time that another tenant took.
     */
    public static long[] cpuTicks() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (!line.startsWith("cpu ")) continue;
                String[] f = line.trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]); // user .. steal
                return new long[] {total, f.length > 8 ? Long.parseLong(f[8]) : 0};
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    /** Percentage of CPU time stolen by the host between two {@link #cpuTicks} readings, or NaN. */
    public static double stealPercent(long[] before, long[] after) {
        if (before == null || after == null || after[0] <= before[0]) return Double.NaN;
        return 100.0 * (after[1] - before[1]) / (after[0] - before[0]);
    }

    /** CPU time used by this process (all threads), in nanoseconds; -1 where the JVM does not report it. */
    public static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** The machine's load average over the last minute (/proc/loadavg), or "unknown". */
    public static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
        } catch (IOException | RuntimeException e) {
            return "unknown"; // not Linux: the load average is only informative
        }
    }

    private static String find(String text, String regex, String otherwise) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : otherwise;
    }

    /** e.g. {@code AMD EPYC (family 25 model 1), avx2 fma, no AMX}: what to name beside a figure. */
    public String cpuLine() {
        return String.format(Locale.ROOT, "%s (family %d model %d), %s, %s", cpuModel, family, model,
                isa.isEmpty() ? "no AVX2" : String.join(" ", isa), amx ? "AMX" : "no AMX");
    }

    /** Environment variables that change which kernels run (to bisect a fault: cap them and run doctor again). */
    static final List<String> KERNEL_ENV = List.of("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS",
            "OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "ONEDNN_PRIMITIVE_CACHE_CAPACITY");

    /** The malloc a process runs on: libtorch allocates and frees its tensors through it, many per step. */
    public enum Allocator implements Choice {
        TCMALLOC("tcmalloc (preloaded by the launcher; WOODFLOW_MALLOC=glibc turns it off)"),
        JEMALLOC("jemalloc"),
        GLIBC("glibc (install libtcmalloc-minimal4 for faster small models; the launcher preloads it)"),
        UNKNOWN("unknown");

        private final String line;

        Allocator(String line) {
            this.line = line;
        }

        /** What the doctor says of it. */
        public String line() {
            return line;
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /**
     * The malloc this process runs on, from its mapped libraries: {@code tcmalloc} or {@code jemalloc} when one is
     * loaded (the launcher preloads tcmalloc where it is installed), else {@code glibc}.
     */
    public static Allocator allocator() {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            List<String> libs = lines.filter(l -> l.contains("libtcmalloc") || l.contains("libjemalloc")).toList();
            if (libs.stream().anyMatch(l -> l.contains("libtcmalloc"))) return Allocator.TCMALLOC;
            if (!libs.isEmpty()) return Allocator.JEMALLOC;
        } catch (IOException | java.io.UncheckedIOException e) {
            return Allocator.UNKNOWN;
        }
        return Allocator.GLIBC;
    }

    /**
     * The JVM's garbage collector and its starting heap: the launcher chooses the serial collector with a small heap,
     * which keeps the JVM's share of a run's peak memory small.
     *
     * @param kind          {@code serial}, {@code G1}, {@code parallel}, or the collectors' own names
     * @param serial        whether it is the serial collector
     * @param initialHeapMb the heap at start, or 0 when the JVM does not say
     */
    public record Collector(String kind, boolean serial, long initialHeapMb) {
        /** e.g. {@code serial, heap 8 MB at start}. */
        @Override
        public String toString() {
            return initialHeapMb > 0 ? String.format(Locale.ROOT, "%s, heap %d MB at start", kind, initialHeapMb)
                    : kind;
        }
    }

    /** This JVM's collector ({@link Collector}). */
    public static Collector collector() {
        List<String> names = java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(java.lang.management.GarbageCollectorMXBean::getName).toList();
        boolean serial = names.contains("Copy");
        String kind = serial ? "serial" : names.stream().anyMatch(n -> n.startsWith("G1")) ? "G1"
                : names.stream().anyMatch(n -> n.startsWith("PS ")) ? "parallel" : String.join("+", names);
        long initial = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getInit();
        return new Collector(kind, serial, Math.max(0, initial) >> 20);
    }

    public List<String> lines() {
        List<String> env = new ArrayList<>();
        for (String k : KERNEL_ENV) if (System.getenv(k) != null) env.add(k + "=" + System.getenv(k));
        Allocator malloc = allocator();
        Collector gc = collector();
        return List.of("cpu:      " + cpuLine(),
                "threads:  " + threads + " libtorch threads on " + cores + " cores",
                "libtorch: " + libtorch + " (its own kernels: " + atenCapability + "), " + onednn,
                "malloc:   " + malloc.line(),
                "jvm:      " + gc + (gc.serial() ? "" : " (the launcher's choice is "
                        + "the serial collector, smaller; WOODFLOW_JAVA_OPTS overrides it)"),
                "env:      " + (env.isEmpty() ? "no kernel-selecting variables set (" + String.join(", ",
                        KERNEL_ENV.subList(0, 2)) + ", ...)" : String.join(" ", env)));
    }
}
