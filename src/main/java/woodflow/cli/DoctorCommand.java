package woodflow.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import woodflow.core.Init;
import woodflow.core.MachineInfo;
import woodflow.data.Quantization;
import woodflow.model.MultiScaleFlow;
import woodflow.bench.Peak;
import woodflow.nn.Bf16Kernels;
import woodflow.nn.ConvRouting;
import woodflow.nn.FastPathCheck;
import woodflow.train.Adam;
import woodflow.train.Presets;
import woodflow.train.RunConfig;
import woodflow.train.SelfCheck;
import woodflow.train.TrainConfig;
import woodflow.train.TrainStep;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code woodflow doctor}: the machine, and the fast paths checked against the reference paths for a model, as the
 * start-up self-check of {@code train} does, with every result printed. Exit 1 when a fast path is wrong.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Print the machine (CPU, ISA, AMX, threads, libtorch, oneDNN, its measured and theoretical peak "
                + "rates) and check the fast convolution "
                + "path against the reference path for a preset or config, forward and backward; exit 1 if it is "
                + "wrong here.", "Example: woodflow doctor --preset cifar10-woodbury"})
public final class DoctorCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Option(names = "--preset", description = "A named preset (default: demo).")
    String preset;

    @Option(names = "--config", description = "A YAML/JSON run config file.")
    Path config;

    @Mixin
    PrecisionOption precision;

    @Option(names = "--batch", description = "Batch size of the checks (default: the config's training batch).")
    Integer batch;

    @Override
    public Integer call() throws Exception {
        common.setUp();
        if (preset != null && config != null) throw new IllegalArgumentException("give --preset or --config, not both");
        RunConfig cfg = config != null ? RunConfig.read(config) : Presets.load(preset != null ? preset : "demo");
        if (batch != null && batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        TrainConfig tc = cfg.train().with(null, batch, null, precision.orConfig(), null);
        cfg = cfg.withTrain(tc).validate();
        tc = cfg.train();
        MachineInfo m = MachineInfo.read();
        System.out.println("woodflow doctor");
        m.lines().forEach(System.out::println);
        System.out.println("bf16:     convolutions " + woodflow.nn.Bf16Kernels.current().describe());
        var mc = cfg.model();
        System.out.printf(Locale.ROOT, "model:    %s (%s, %s coupling, %d levels x %d steps, %d channels), %dx%dx%d, "
                        + "batch %d, %s, %s backprop%n", preset != null ? preset : config != null ? config : "demo",
                mc.permutation(), mc.coupling(), mc.levels(), mc.steps(), mc.hidden(), mc.channels(), mc.height(),
                mc.width(), tc.batch(), tc.precision(), tc.backprop());
        torch.manual_seed(tc.seed());
        MultiScaleFlow model = new MultiScaleFlow(mc, Init.float32(common.device));
        model.precision(tc.precision());
        Adam adam = new Adam(model.namedParameters(), tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
        TrainStep stepper = new TrainStep(model, adam, tc, cfg.data().nBits());
        SelfCheck check;
        try (PointerScope scope = new PointerScope()) {
            // random images of the model's shape: the check needs the shapes and realistic values, not the data set
            Tensor images = torch.randint(0, 256, new long[] {tc.batch(), mc.channels(), mc.height(), mc.width()})
                    .to(torch.ScalarType.Byte);
            java.util.Set<woodflow.nn.ConvShape> convs;
            try (NoGradGuard g = new NoGradGuard(); ConvRouting.Recording rec = ConvRouting.recording()) {
                model.bitsPerDim(stepper.dequantize(images, -1), Quantization.bins(cfg.data().nBits()));
                convs = rec.shapes();
            }
            // the machine's rate, measured the way its best kernels run (the model's largest convolution included)
            Peak.measure(convs, Bf16Kernels.current() == Bf16Kernels.NATIVE).lines().forEach(System.out::println);
            check = SelfCheck.run(stepper, images, 0, model.parameters().get(0).device().str().getString());
        }
        System.out.printf(Locale.ROOT, "%nconvolutions, fast path (oneDNN) against reference (im2col + matmul), "
                + "forward and backward, %d runs each (the later ones on memory pre-filled with NaN):%n",
                SelfCheck.REPEATS);
        for (FastPathCheck.Outcome o : check.shapes().outcomes()) System.out.println("  " + o.line());
        TrainStep.PathComparison g = check.first();
        System.out.printf(Locale.ROOT, "%ntraining gradient, fast against reference: relative L2 error %.1e "
                        + "(tolerance %.0e), loss %.6f against %.6f%s%n", g.relativeError(),
                g.tolerance(), g.fastLoss(), g.referenceLoss(),
                g.agrees() ? "" : ": " + g.problem());
        System.out.printf(Locale.ROOT, "checked in %.1f s%n", check.seconds());
        if (check.passed()) {
            System.out.println("doctor: passed: the fast path agrees with the reference path on this machine");
            return 0;
        }
        System.out.printf(Locale.ROOT, "doctor: FAILED: the fast path is wrong on this machine for %d of %d "
                        + "convolution shapes%s; training routes %s to the reference path by itself (slower)%n",
                check.shapes().failed().size(), check.shapes().outcomes().size(),
                g.agrees() ? "" : " and the training gradient differs",
                check.routedAll() ? "every convolution" : "those shapes");
        return 1;
    }
}
