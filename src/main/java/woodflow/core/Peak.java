package woodflow.core;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine's floating-point rate, to measure a model's work against: measured once per run the way the library's
 * best kernels run, beside the theoretical peak of the cores.
 *
 * <p><b>Measured:</b> a square matrix product in float32 and, where the CPU has bf16 dot products, in bfloat16, at
 * the size that runs fastest (512, then 1024 and 2048 while the rate grows), and the model's largest convolution (the most work per call, in its
 * own layout) in the same precisions. Where the process runs two batch halves on two threads ({@link
 * Halves}), as training and sampling do, each kernel runs on both threads at once, each with its share
 * of the libtorch threads, and the two threads' rates are summed; else on this thread with all of them. Each
 * thread's rate is its best of at least five timed calls after two warm-up calls: on a shared host other processes
 * only ever make a call slower, so the fastest call is the machine's rate, and the median beside it shows how busy
 * the host was (a best more than 1.5 times the median is flagged). Every share of "the machine" a benchmark prints is
 * taken against the best of these rates, so no share exceeds 1 unless the model outran every kernel measured here.
 *
 * <p><b>Theoretical:</b> cores x clock x floating-point operations per cycle and core, from the ISA: two fused
 * multiply-adds per cycle on 8 (AVX2) or 16 (AVX-512) float32 lanes, except AMD Zen 4, which runs AVX-512 on 256-bit
 * units; twice that in bf16 with {@code avx512_bf16} (two products per float32 lane); with AMX, 1024 bf16 operations
 * per cycle and core (one 16x16x32 tile product every 16 cycles). The clock is the nominal one: the model name's
 * "@ x GHz" where it has one, else {@code /proc/cpuinfo}'s "cpu MHz" (under a hypervisor, the host's nominal
 * frequency); a core that boosts above it can beat the figure.
 */
public record Peak(List<Rate> rates, Theoretical theoretical) {
    /** A spread above this (best over median) means the host was busy while the rate was measured. */
    public static final double WIDE_SPREAD = 1.5;

    /**
     * A convolution to measure (stride 1): batch, input and output channels, kernel and padding sizes, image size, and
     * whether its activations and weights are channels-last.
     */
    public record Conv(long batch, long in, long out, long kh, long kw, long ph, long pw, long height, long width,
                       boolean channelsLast) {}

    /** One kernel's measured rate: the best and the median GFLOP/s over {@code calls} timed calls. */
    public record Rate(String kernel, String precision, double bestGflops, double medianGflops, int calls, String threads) {
        public boolean wide() {
            return bestGflops > WIDE_SPREAD * medianGflops;
        }

        /** e.g. {@code fp32 matmul 1024x1024x1024: 160 GFLOP/s (median 151, best of 7)}. */
        public String describe() {
            return String.format(Locale.ROOT, "%s %s: %s GFLOP/s (%s, best of %d calls, median %s%s)", precision,
                    kernel, fmt(bestGflops), threads, calls, fmt(medianGflops), wide() ? ": the host was busy" : "");
        }
    }

    /**
     * cores x clock x FLOP per cycle and core, in float32 and bf16 (0 where the ISA is not known), with the basis of
     * each figure in words.
     */
    public record Theoretical(int cores, double ghz, String clockSource, int fp32PerCycle, String fp32Basis,
                              int bf16PerCycle, String bf16Basis) {
        public double fp32Gflops() {
            return cores * ghz * fp32PerCycle;
        }

        public double bf16Gflops() {
            return cores * ghz * bf16PerCycle;
        }

        /** e.g. {@code fp32 333 GFLOP/s (2 cores x 2.60 GHz x 64 FLOP/cycle: AVX-512, two FMA units)}. */
        public String describe() {
            if (fp32PerCycle == 0) return "not known for this CPU's ISA";
            String fp32 = String.format(Locale.ROOT, "fp32 %s GFLOP/s (%d cores x %.2f GHz x %d FLOP/cycle: %s)",
                    fmt(fp32Gflops()), cores, ghz, fp32PerCycle, fp32Basis);
            String bf16 = bf16PerCycle == 0 ? "" : String.format(Locale.ROOT, ", bf16 %s GFLOP/s (x %d FLOP/cycle: %s)",
                    fmt(bf16Gflops()), bf16PerCycle, bf16Basis);
            return fp32 + bf16 + "; clock " + clockSource;
        }
    }

    /** The fastest measured rate. */
    public Rate best() {
        return rates.stream().max(Comparator.comparingDouble(Rate::bestGflops)).orElseThrow();
    }

    /** The fastest measured rate in a precision ({@code fp32} or {@code bf16}), or null when none was measured. */
    public Rate best(String precision) {
        return rates.stream().filter(r -> r.precision().equals(precision))
                .max(Comparator.comparingDouble(Rate::bestGflops)).orElse(null);
    }

    /** The best rate of a kind of kernel ({@code matmul} or {@code conv}) in a precision, or null. */
    public Rate best(String kind, String precision) {
        return rates.stream().filter(r -> r.precision().equals(precision) && r.kernel().startsWith(kind))
                .max(Comparator.comparingDouble(Rate::bestGflops)).orElse(null);
    }

    /** A share of the best measured rate (at most 1 unless something outran every kernel measured here). */
    public double share(double gflops) {
        return gflops / best().bestGflops();
    }

    /** The lines {@code doctor} prints. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        Rate b = best();
        out.add(String.format(Locale.ROOT, "peak:     measured %s GFLOP/s (%s %s; every share of the machine is taken "
                + "against this)", fmt(b.bestGflops()), b.precision(), b.kernel()));
        for (Rate r : rates) out.add("            " + r.describe());
        out.add("          theoretical: " + theoretical.describe());
        String above = aboveTheoretical();
        if (above != null) out.add("          " + above);
        return out;
    }

    /**
     * What a measured rate above the theoretical figure of its precision says, or null when none is: the theoretical
     * figure takes the nominal clock, and a boosting core runs faster; the clock the rate implies at the ISA's FLOP per
     * cycle is a lower bound on the clock the kernel ran at.
     */
    public String aboveTheoretical() {
        StringBuilder sb = new StringBuilder();
        for (String precision : List.of("fp32", "bf16")) {
            Rate r = best(precision);
            int perCycle = precision.equals("fp32") ? theoretical.fp32PerCycle() : theoretical.bf16PerCycle();
            double limit = precision.equals("fp32") ? theoretical.fp32Gflops() : theoretical.bf16Gflops();
            if (r == null || perCycle == 0 || theoretical.ghz() <= 0 || r.bestGflops() <= limit) continue;
            double ghz = r.bestGflops() / (theoretical.cores() * (double) perCycle);
            sb.append(sb.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s measured %s GFLOP/s, above "
                    + "its theoretical %s: at %d FLOP/cycle the cores ran at %.2f GHz or more, not the nominal %.2f",
                    precision, fmt(r.bestGflops()), fmt(limit), perCycle, ghz, theoretical.ghz()));
        }
        return sb.length() == 0 ? null : "above the theoretical peak: " + sb + " (a boost clock, or more FLOP per "
                + "cycle than the ISA's count assumes)";
    }

    /**
     * Measures the rates, with this thread's libtorch threads: matrix products in float32 and (with native bf16
     * kernels) bf16, and the largest of {@code modelConvs} (by work per call; none: no convolution rate) in both.
     */
    public static Peak measure(Collection<Conv> modelConvs, boolean bf16Native) {
        List<Rate> rates = new ArrayList<>();
        List<String> precisions = bf16Native ? List.of("fp32", "bf16") : List.of("fp32");
        for (String p : precisions) {
            // the size grows while the rate does (by 5% or more), up to 2048
            Rate best = matmul(512, p);
            for (int n = 1024; n <= 2048; n *= 2) {
                Rate r = matmul(n, p);
                if (r.bestGflops() <= 1.05 * best.bestGflops()) {
                    if (r.bestGflops() > best.bestGflops()) best = r;
                    break;
                }
                best = r;
            }
            rates.add(best);
        }
        Conv largest = modelConvs.stream().max(Comparator.comparingDouble(Peak::flops)).orElse(null);
        if (largest != null) for (String p : precisions) rates.add(conv(largest, p));
        return new Peak(List.copyOf(rates), theoretical(MachineInfo.read()));
    }

    private static ScalarType dtype(String precision) {
        return precision.equals("bf16") ? ScalarType.BFloat16 : ScalarType.Float;
    }

    static double flops(Conv s) {
        return 2.0 * Math.max(1, s.batch()) * s.in() * s.out() * s.kh() * s.kw() * s.height() * s.width();
    }

    private static Rate matmul(int n, String precision) {
        return rate(String.format(Locale.ROOT, "matmul %dx%dx%d", n, n, n), precision, 2.0 * n * n * n, () -> {
            Tensor a = torch.randn(new long[] {n, n}).to(dtype(precision));
            Tensor b = torch.randn(new long[] {n, n}).to(dtype(precision));
            return () -> a.matmul(b);
        });
    }

    private static Rate conv(Conv s, String precision) {
        MemoryFormat layout = s.channelsLast() ? MemoryFormat.ChannelsLast : MemoryFormat.Contiguous;
        String what = String.format(Locale.ROOT, "conv %dx%d %d->%d at %dx%d, batch %d%s", s.kh(), s.kw(), s.in(),
                s.out(), s.height(), s.width(), Math.max(1, s.batch()), s.channelsLast() ? ", channels-last" : "");
        return rate(what, precision, flops(s), () -> {
            Tensor x = torch.randn(new long[] {Math.max(1, s.batch()), s.in(), s.height(), s.width()})
                    .to(dtype(precision)).contiguous(layout);
            Tensor w = torch.randn(new long[] {s.out(), s.in(), s.kh(), s.kw()}).mul(Tensors.s(0.05))
                    .to(dtype(precision)).contiguous(layout);
            return () -> torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1}, new long[] {s.ph(), s.pw()},
                    new long[] {1, 1}, 1);
        });
    }

    /**
     * The rate of a kernel (its operands made by {@code setup}, which returns the call): on two threads at once
     * where the process runs batch halves (each with its share of the libtorch threads, each timing its own calls:
     * the rate is the two threads' summed), else on this thread with all of them.
     */
    private static Rate rate(String kernel, String precision, double flop,
                             java.util.function.Supplier<Runnable> setup) {
        Halves halves = Halves.forThisProcess();
        java.util.concurrent.Callable<double[]> timed = () -> {
            try (NoGradGuard g = new NoGradGuard()) {
                return time(setup.get());
            }
        };
        try {
            if (halves == null) {
                try (PointerScope scope = new PointerScope()) {
                    double[] t = timed.call();
                    return new Rate(kernel, precision, flop / min(t) / 1e9, flop / median(t) / 1e9, t.length,
                            torch.get_num_threads() + " libtorch thread" + (torch.get_num_threads() == 1 ? "" : "s"));
                }
            }
            double[][] t = halves.run(timed, timed, double[][]::new);
            return new Rate(kernel, precision, flop / min(t[0]) / 1e9 + flop / min(t[1]) / 1e9,
                    flop / median(t[0]) / 1e9 + flop / median(t[1]) / 1e9, t[0].length + t[1].length,
                    String.format(Locale.ROOT, "two threads at once, %d libtorch thread%s each, their rates summed",
                            halves.threadsPerHalf(), halves.threadsPerHalf() == 1 ? "" : "s"));
        } catch (Exception e) {
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e);
        }
    }

    /** Seconds of each timed call after two warm-up calls: at least 5, and more up to 15 while under 0.15 s in all. */
    private static double[] time(Runnable call) {
        for (int i = 0; i < 2; i++) {
            try (PointerScope scope = new PointerScope()) {
                call.run();
            }
        }
        double[] t = new double[15];
        int n = 0;
        double total = 0;
        while (n < t.length && (n < 5 || total < 0.15)) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                call.run();
                t[n] = (System.nanoTime() - t0) / 1e9;
            }
            total += t[n++];
        }
        return Arrays.copyOf(t, n);
    }

    private static double min(double[] t) {
        return Arrays.stream(t).min().orElseThrow();
    }

    private static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The theoretical peak of this CPU from its ISA, model and clock (see the class comment). */
    static Theoretical theoretical(MachineInfo m) {
        double[] clock = new double[1];
        String source = clock(m.cpuModel(), clock);
        boolean amd = m.cpuModel().contains("AMD"), avx512 = m.isa().contains("avx512f");
        int fp32;
        String basis;
        if (avx512 && amd && m.family() <= 25) {
            fp32 = 32;
            basis = "AVX-512 on 256-bit units (AMD Zen 4), two FMA units";
        } else if (avx512) {
            fp32 = 64;
            basis = "AVX-512, two FMA units (some CPUs have one: then half)";
        } else if (m.isa().contains("avx2") && m.isa().contains("fma")) {
            fp32 = 32;
            basis = "AVX2, two FMA units";
        } else {
            fp32 = 0;
            basis = "";
        }
        int bf16 = 0;
        String bf16Basis = "";
        if (m.isa().contains("amx_bf16")) {
            bf16 = 1024;
            bf16Basis = "AMX, one 16x16x32 bf16 tile product per 16 cycles";
        } else if (m.isa().contains("avx512_bf16") && fp32 > 0) {
            bf16 = 2 * fp32;
            bf16Basis = "avx512_bf16, two products per float32 lane";
        }
        return new Theoretical(m.cores(), clock[0], source, fp32, basis, bf16, bf16Basis);
    }

    /** The nominal clock in GHz into {@code ghz[0]}; returns where it came from. */
    static String clock(String modelName, double[] ghz) {
        Matcher m = Pattern.compile("@\\s*([0-9.]+)\\s*GHz").matcher(modelName);
        if (m.find()) {
            ghz[0] = Double.parseDouble(m.group(1));
            return String.format(Locale.ROOT, "%.2f GHz from the model name (nominal)", ghz[0]);
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("cpu MHz")) {
                    ghz[0] = Double.parseDouble(line.substring(line.indexOf(':') + 1).strip()) / 1000;
                    return String.format(Locale.ROOT, "%.2f GHz from /proc/cpuinfo's cpu MHz (under a hypervisor the "
                            + "host's nominal clock; a boosting core can beat the figure)", ghz[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // below
        }
        ghz[0] = 0;
        return "unknown (no cpu MHz in /proc/cpuinfo)";
    }

    static String fmt(double gflops) {
        return gflops >= 100 ? String.format(Locale.ROOT, "%.0f", gflops) : String.format(Locale.ROOT, "%.3g", gflops);
    }
}
