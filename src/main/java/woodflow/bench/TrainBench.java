package woodflow.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.MachineInfo;
import woodflow.core.Peak;
import woodflow.core.ProcessMemory;
import woodflow.data.Quantization;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.model.Flops;
import woodflow.model.MultiScaleFlow;
import woodflow.sample.Sampler;
import woodflow.train.DataParallel;
import woodflow.train.RunConfig;
import woodflow.train.SelfCheck;
import woodflow.train.TrainConfig;
import woodflow.train.TrainStep;

import woodflow.distributed.DistConfig;
import woodflow.distributed.LocalLauncher;
import woodflow.io.AtomicFiles;
import woodflow.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Throughput of a full training iteration (forward, backward, Adam) and of sampling for any run config, on real
 * batches of the config's data set ({@link BenchData}): medians after warm-up, peak resident memory, and the model's
 * floating-point work per second beside the machine's peak ({@link Peak}) measured in the same run. A timing that
 * contains a skipped (non-finite) step is marked invalid: a skipped step does less work and would flatter it.
 */
public final class TrainBench {
    private TrainBench() {}

    /**
     * {@code woodflow bench train}: the timing of {@code cfg} alone, as one rank of the group the environment names
     * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or as {@code nproc} ranks started on this machine (child JVMs of
     * {@code mainClass} with {@code rankArgs}, each with its share of {@code threads}; their logs kept only when one
     * fails). The process alone, or rank 0, prints the result ({@link #print}). Returns the exit code: 1 when a timed
     * step was skipped (a skipped step does less work: its time would flatter the figure).
     */
    public static int run(RunConfig cfg, String device, int warmup, int iterations, Integer nproc, int threads,
                          boolean overlap, String mainClass, List<String> rankArgs, Path json, PrintStream out)
            throws IOException, InterruptedException {
        if (nproc != null) {
            LocalLauncher.checkGroup(nproc, cfg.train().batch());
            // the ranks' logs, kept when a rank fails (the launcher names the file), removed otherwise
            Path logs = Files.createTempDirectory("woodflow-bench-ranks");
            int code = new LocalLauncher(nproc, threads, logs, System.err).run(mainClass, rankArgs);
            if (code == 0) AtomicFiles.deleteTreeQuietly(logs);
            return code;
        }
        DistConfig group = DistConfig.resolve(System.getenv(), null, null, null, null);
        Map<String, Object> r;
        if (group == null) {
            r = train(cfg, device, warmup, iterations);
        } else {
            try (DistContext ctx = DistContext.join(group, device)) {
                r = train(cfg, device, warmup, iterations, ctx, overlap);
                ctx.barrier();
            }
            if (group.rank() != 0) return 0; // rank 0 reports for the group
        }
        print(r, json, out);
        if (!Boolean.TRUE.equals(r.get("valid"))) {
            System.err.printf(Locale.ROOT, "woodflow: error: this timing is invalid: %s of %d timed steps were "
                    + "skipped as non-finite; find out why with `woodflow doctor` and do not quote it%n",
                    r.get("skipped_steps"), iterations);
            return 1;
        }
        return 0;
    }

    /** A result as a table of {@code name value} lines, and appended as one JSON line to {@code json} (if not null). */
    public static void print(Map<String, Object> r, Path json, PrintStream out) throws IOException {
        for (var e : r.entrySet()) {
            Object v = e.getValue();
            out.printf(Locale.ROOT, "%-22s %s%n", e.getKey(), v instanceof Double d ? String.format(Locale.ROOT,
                    "%.4g", d) : v);
        }
        if (json != null) {
            Files.writeString(json, Json.MAPPER.writeValueAsString(r) + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    /** Results as an ordered map (printed as a table and one JSON line). */
    public static Map<String, Object> train(RunConfig cfg, String device, int warmup, int iterations) {
        return train(cfg, device, warmup, iterations, null, true);
    }

    /**
     * As {@link #train(RunConfig, String, int, int)}, as one rank of a data-parallel {@code group} when it is not null: each
     * rank steps on its rows of the same global batches, the gradients are averaged (during the backward when
     * {@code overlap}, see {@link GradientReducer}), and the time each step waited for the all-reduces is reported
     * apart. The images per second are the group's (global batch over the median iteration time).
     */
    public static Map<String, Object> train(RunConfig cfg, String device, int warmup, int iterations,
                                            DistContext group, boolean overlap) {
        TrainConfig tc = cfg.train();
        TrainStep step = TrainStep.of(cfg, device);
        MultiScaleFlow model = step.model();
        var m = cfg.model();
        int b = tc.batch();
        int ranks = group == null ? 1 : group.worldSize();
        if (b % ranks != 0) {
            throw new IllegalArgumentException("the global batch " + b + " is not divisible by the " + ranks
                    + " ranks: choose a batch that is a multiple of " + ranks + " (--batch)");
        }
        int rows = b / ranks, first = group == null ? 0 : group.rank() * rows;
        DataParallel parallel = null;
        if (group != null) {
            parallel = new DataParallel(group);
            parallel.join(step, overlap, GradientReducer.FIRST_BUCKET_BYTES, GradientReducer.BUCKET_BYTES);
        }
        BenchData bench = BenchData.load(cfg, b, Math.max(4 * b, 64));
        Tensor data = bench.images();
        double[] times = new double[iterations], fwd = new double[iterations], bwd = new double[iterations],
                upd = new double[iterations], sync = new double[iterations], cpu = new double[iterations];
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
                var c = model.classesInTurn(b)) {
            model.bitsPerDim(step.dequantize(data.narrow(0, 0, b), -1), Quantization.bins(cfg.data().nBits()));
        }
        // the paths training would take on this machine (a wrong fast path is routed, as in a run)
        SelfCheck check;
        try (PointerScope scope = new PointerScope()) {
            check = SelfCheck.run(step, data.narrow(0, 0, b), 0, model.parameters().get(0).device().str().getString());
        }
        // the self-check's peak, then the training loop's own (the high-water mark reset between them)
        double checkPeakRss = ProcessMemory.peakMib(), rssBefore = ProcessMemory.resetPeak();
        long[] ticks = null;
        int skipped = 0, skippedWarmup = 0;
        for (int i = 0; i < warmup + iterations; i++) {
            if (i == warmup) ticks = MachineInfo.cpuTicks();
            try (PointerScope scope = new PointerScope()) {
                Tensor batch = data.narrow(0, (i * b) % (data.size(0) - b + 1) + first, rows);
                long c0 = MachineInfo.processCpuNanos();
                long t0 = System.nanoTime();
                double loss = step.run(batch, i, tc.lr());
                double t = (System.nanoTime() - t0) / 1e9;
                double c = (MachineInfo.processCpuNanos() - c0) / 1e9;
                if (!Double.isFinite(loss)) {
                    if (i >= warmup) skipped++;
                    else skippedWarmup++;
                }
                if (i >= warmup) {
                    int k = i - warmup;
                    times[k] = t;
                    cpu[k] = c;
                    fwd[k] = step.lastTiming().forward();
                    bwd[k] = step.lastTiming().backward();
                    upd[k] = step.lastTiming().update();
                    sync[k] = step.lastTiming().sync();
                }
            }
        }
        double steal = MachineInfo.stealPercent(ticks, MachineInfo.cpuTicks());
        double loopPeakRss = ProcessMemory.peakMib(), rssGrowth = ProcessMemory.residentMib() - rssBefore;
        double peakRss = Double.isNaN(rssBefore) ? loopPeakRss : Math.max(checkPeakRss, loopPeakRss);
        // the step's operations, counted on its autograd graph (deterministic, unlike the timings); after the peak
        // memory is read: the count holds a whole standard graph, which training with --backprop invertible never does
        Map<String, Integer> ops;
        try (PointerScope scope = new PointerScope(); var c = model.classesInTurn(b)) {
            ops = AutogradOps.count(model.bitsPerDim(step.dequantize(data.narrow(0, 0, b), 0),
                    Quantization.bins(cfg.data().nBits())).mean());
        }
        double med = Timing.median(times);
        double flops = 3 * Flops.forward(m, b);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("what", "train");
        r.put("config", describe(cfg));
        r.put("cpu", MachineInfo.read().cpuLine());
        r.put("malloc", MachineInfo.allocator().label());
        r.put("jvm_gc", MachineInfo.collector().toString());
        r.put("data", bench.source());
        r.put("fast_path", check.passed() ? "checked: agrees with the reference"
                : check.routedAll() ? "wrong here: every convolution on the reference path"
                : "wrong here for " + check.shapes().failed().size() + " shapes: those on the reference path");
        r.put("skipped_steps", skipped);
        r.put("skipped_warmup_steps", skippedWarmup);
        r.put("valid", skipped == 0);
        r.put("precision", tc.precision());
        r.put("backprop", tc.backprop());
        r.put("batch", b);
        r.put("threads", torch.get_num_threads());
        r.put("parallelism", step.parallelism());
        r.put("iterations_timed", iterations);
        r.put("iter_s_median", med);
        r.put("images_per_s", b / med);
        // CPU seconds the whole process used per timed iteration (their mean: the clock ticks are 10 ms): steadier
        // than wall time when other tenants share the cores (with --threads 1 it is the step's own work)
        r.put("process_cpu_s_per_iter", java.util.Arrays.stream(cpu).sum() / iterations);
        // through inverses the forward and backward interleave: both are in backward_s_median
        if (!Double.isNaN(Timing.median(fwd))) r.put("forward_s_median", Timing.median(fwd));
        r.put("backward_s_median", Timing.median(bwd));
        r.put("update_s_median", Timing.median(upd));
        if (group != null) {
            r.put("world_size", ranks);
            r.put("rank_batch", rows);
            GradientReducer reducer = parallel.reducer();
            r.put("allreduce", reducer != null ? "overlapped with the backward, " + reducer.bucketCount() + " buckets"
                    : overlap ? "after the backward (one bucket: nothing to overlap)" : "after the backward (--no-overlap)");
            r.put("allreduce_wait_s_median", Timing.median(sync));
            r.put("allreduce_wait_share", Timing.median(sync) / med);
            r.put("gradient_mib", model.parameterCount() * 4 / (1024.0 * 1024.0));
            parallel.close();
        }
        r.put("model_gflop_per_iter", flops / 1e9);
        // the machine's rate, measured once in this run (after the timed part, which it cannot disturb)
        java.util.List<Peak.Conv> convs = new java.util.ArrayList<>();
        for (var o : check.shapes().outcomes()) convs.add(o.shape().forPeak());
        Peak peak = Peak.measure(convs, woodflow.nn.Bf16Kernels.current() == woodflow.nn.Bf16Kernels.NATIVE);
        // the model's heavy work (the conditioner convolutions) runs in bf16 only on native bf16 kernels (emulated
        // bf16 convolutions run float32 kernels)
        boolean bf16Kernels = bf16Kernels(tc, r);
        putPeak(r, peak, flops / med / 1e9, bf16Kernels ? "bf16" : "fp32");
        r.put("cpu_steal_pct", steal);
        r.put("peak_rss_mib", peakRss);
        r.put("peak_rss_self_check_mib", checkPeakRss);
        r.put("peak_rss_training_loop_mib", Double.isNaN(rssBefore) ? Double.NaN : loopPeakRss);
        r.put("rss_growth_mib", rssGrowth);
        r.put("parameters", model.parameterCount());
        r.put("autograd_ops_per_step", AutogradOps.total(ops));
        r.put("autograd_ops", describe(ops));
        return r;
    }

    /** Median seconds to sample {@code n} images at temperature T (after ActNorm init on a real batch). */
    public static Map<String, Object> sample(RunConfig cfg, String device, int n, double temperature,
                                             int repeats) {
        TrainConfig tc = cfg.train();
        MultiScaleFlow model = TrainStep.newModel(cfg, device);
        var m = cfg.model();
        // the convolutions of sampling are the coupling networks' forward ones (recorded on this thread; sampling
        // itself may run on two), at the sampled batch
        java.util.List<Peak.Conv> convs = new java.util.ArrayList<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard();
             woodflow.nn.ConvRouting.Recording rec = woodflow.nn.ConvRouting.recording()) {
            Tensor data = BenchData.load(cfg, tc.batch(), tc.batch()).images();
            try (var c = model.classesInTurn(data.size(0))) {
                model.bitsPerDim(Quantization.dequantize(data, cfg.data().nBits()),
                        Quantization.bins(cfg.data().nBits()));
            }
            for (woodflow.nn.ConvShape shape : rec.shapes()) convs.add(shape.withBatch(n).forPeak());
        }
        model.train(false);
        double[] t = new double[repeats];
        try (PointerScope scope = new PointerScope()) {
            Sampler.sample(model, n, temperature, cfg.data().nBits(), 1);
        }
        long[] ticks = MachineInfo.cpuTicks();
        for (int i = 0; i < repeats; i++) {
            try (PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                Sampler.sample(model, n, temperature, cfg.data().nBits(), i + 2);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("what", "sample");
        r.put("config", describe(cfg));
        r.put("cpu", MachineInfo.read().cpuLine());
        r.put("malloc", MachineInfo.allocator().label());
        r.put("jvm_gc", MachineInfo.collector().toString());
        r.put("precision", tc.precision());
        r.put("threads", torch.get_num_threads());
        r.put("samples", n);
        r.put("temperature", temperature);
        r.put("sample_s_median", Timing.median(t));
        r.put("images_per_s", n / Timing.median(t));
        r.put("cpu_steal_pct", MachineInfo.stealPercent(ticks, MachineInfo.cpuTicks()));
        // sampling runs every coupling network once per image, as the forward pass does: the same counted work,
        // beside the machine's measured peak (how close sampling is to the machine)
        double flops = Flops.forward(m, n);
        Peak peak = Peak.measure(convs, woodflow.nn.Bf16Kernels.current() == woodflow.nn.Bf16Kernels.NATIVE);
        r.put("model_gflop", flops / 1e9);
        putPeak(r, peak, flops / Timing.median(t) / 1e9, bf16Kernels(tc, r) ? "bf16" : "fp32");
        r.put("peak_rss_mib", ProcessMemory.peakMib());
        return r;
    }

    /**
     * The machine's measured and theoretical peaks beside the model's rate: {@code model_share_of_peak} against the
     * best rate measured (whatever its precision), {@code model_share_of_precision_peak} against the best in the
     * precision the model's heavy kernels run in ({@code fp32} or {@code bf16}).
     */
    static void putPeak(Map<String, Object> r, Peak peak, double modelGflops, String precision) {
        r.put("model_gflops", modelGflops);
        Peak.Rate best = peak.best(), same = peak.best(precision);
        Peak.Rate mm32 = peak.best("matmul", "fp32"), mm16 = peak.best("matmul", "bf16");
        r.put("matmul_fp32_gflops", mm32.bestGflops());
        if (mm16 != null) r.put("matmul_bf16_gflops", mm16.bestGflops());
        r.put("peak_gflops", best.bestGflops());
        r.put("peak_kernel", best.precision() + " " + best.kernel());
        r.put("peak_rates", String.join("; ", peak.rates().stream().map(Peak.Rate::describe).toList()));
        r.put("peak_theoretical_fp32_gflops", peak.theoretical().fp32Gflops());
        if (peak.theoretical().bf16PerCycle() > 0) r.put("peak_theoretical_bf16_gflops", peak.theoretical().bf16Gflops());
        r.put("peak_theoretical", peak.theoretical().describe());
        r.put("model_share_of_peak", peak.share(modelGflops));
        if (same != null) {
            r.put("peak_same_precision_gflops", same.bestGflops());
            r.put("model_share_of_precision_peak", modelGflops / same.bestGflops());
        }
    }

    /**
     * Whether the conditioner convolutions of a run in this precision run the engine's bf16 kernels; a mixed-precision
     * run's report also says which bf16 path this CPU takes.
     */
    static boolean bf16Kernels(TrainConfig tc, Map<String, Object> report) {
        if (tc.precision() != woodflow.core.Precision.BF16_MIXED) return false;
        report.put("bf16_kernels", woodflow.nn.Bf16Kernels.current().describe());
        return woodflow.nn.Bf16Kernels.current() == woodflow.nn.Bf16Kernels.NATIVE;
    }

    /** {@code name count, ...}, most frequent first. */
    static String describe(Map<String, Integer> ops) {
        StringBuilder sb = new StringBuilder();
        ops.entrySet().stream().sorted((a, c) -> c.getValue() - a.getValue()).forEach(e -> sb
                .append(sb.length() == 0 ? "" : ", ").append(e.getKey().replace("torch::autograd::", ""))
                .append(' ').append(e.getValue()));
        return sb.toString();
    }

    static String describe(RunConfig cfg) {
        var m = cfg.model();
        return String.format(Locale.ROOT, "%dx%dx%d L=%d K=%d h=%d %s/%s", m.channels(), m.height(), m.width(),
                m.levels(), m.steps(), m.hidden(), m.permutation(), m.coupling());
    }
}
