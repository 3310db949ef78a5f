package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.MachineInfo;
import woodflow.core.Peak;
import woodflow.data.Quantization;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.nn.Bf16Kernels;
import woodflow.nn.ConvRouting;
import woodflow.nn.FastPathCheck;

import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code woodflow doctor}: the machine a figure depends on ({@link MachineInfo}) with its measured and theoretical
 * peak rates ({@link Peak}), and the fast convolution path
 * checked against the reference path for a run's model, as the start-up {@link SelfCheck} of training checks it,
 * with every result printed: each convolution shape forward and backward, then the whole training gradient of one
 * batch. The batch is random images of the model's shape: the check needs the shapes and realistic values, not the
 * data set.
 */
public final class Doctor {
    private Doctor() {}

    /** Prints the machine and the checks for {@code cfg} (named {@code name}); 0 when they pass, 1 when not. */
    public static int run(RunConfig cfg, String name, String device, PrintStream out) {
        TrainConfig tc = cfg.train();
        MachineInfo m = MachineInfo.read();
        out.println("woodflow doctor");
        m.lines().forEach(out::println);
        out.println("bf16:     convolutions " + Bf16Kernels.current().describe());
        ModelConfig mc = cfg.model();
        out.printf(Locale.ROOT, "model:    %s (%s, %s coupling, %d levels x %d steps, %d channels), %dx%dx%d, batch %d, "
                        + "%s, %s backprop%n", name, mc.permutation(), mc.coupling(), mc.levels(), mc.steps(),
                mc.hidden(), mc.channels(), mc.height(), mc.width(), tc.batch(), tc.precision(), tc.backprop());
        TrainStep stepper = TrainStep.of(cfg, device);
        MultiScaleFlow model = stepper.model();
        SelfCheck check;
        try (PointerScope scope = new PointerScope()) {
            Tensor images = torch.randint(0, 256, new long[] {tc.batch(), mc.channels(), mc.height(), mc.width()})
                    .to(torch.ScalarType.Byte);
            java.util.List<Peak.Conv> convs = new java.util.ArrayList<>();
            try (NoGradGuard g = new NoGradGuard(); var c = model.classesInTurn(images.size(0));
                 ConvRouting.Recording rec = ConvRouting.recording()) {
                model.bitsPerDim(stepper.dequantize(images, -1), Quantization.bins(cfg.data().nBits()));
                for (woodflow.nn.ConvShape shape : rec.shapes()) convs.add(shape.forPeak());
            }
            // the machine's rate, measured the way its best kernels run (the model's largest convolution included)
            Peak.measure(convs, Bf16Kernels.current() == Bf16Kernels.NATIVE).lines().forEach(out::println);
            check = SelfCheck.run(stepper, images, 0, model.parameters().get(0).device().str().getString());
        }
        out.printf(Locale.ROOT, "%nconvolutions, fast path (oneDNN) against reference (im2col + matmul), forward and "
                + "backward, %d runs each (the later ones on memory pre-filled with NaN):%n", SelfCheck.REPEATS);
        for (FastPathCheck.Outcome o : check.shapes().outcomes()) out.println("  " + o.line());
        TrainStep.PathComparison g = check.first();
        out.printf(Locale.ROOT, "%ntraining gradient, fast against reference: relative L2 error %.1e (tolerance %.0e), "
                        + "loss %.6f against %.6f%s%n", g.relativeError(), g.tolerance(), g.fastLoss(),
                g.referenceLoss(), g.agrees() ? "" : ": " + g.problem());
        out.printf(Locale.ROOT, "checked in %.1f s%n", check.seconds());
        if (check.passed()) {
            out.println("doctor: passed: the fast path agrees with the reference path on this machine");
            return 0;
        }
        out.printf(Locale.ROOT, "doctor: FAILED: the fast path is wrong on this machine for %d of %d convolution "
                        + "shapes%s; training routes %s to the reference path by itself (slower)%n",
                check.shapes().failed().size(), check.shapes().outcomes().size(),
                g.agrees() ? "" : " and the training gradient differs",
                check.routedAll() ? "every convolution" : "those shapes");
        return 1;
    }
}
