package woodflow.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import static woodflow.core.Tensors.s;

/**
 * The start-up check of the fast convolution path: each shape a model uses is run forward and backward through
 * {@link Conv#fast} and through {@link Conv#reference} on the same operands, and the output and the three gradients
 * (input, weight, bias) are compared. A shape whose fast result has a non-finite value the reference has not, or
 * differs by more than the dtype's tolerance, is routed to the reference path ({@link ConvRouting}).
 *
 * <p>The operands are made the way a model makes them: the input in the call's layout (channels-last where the model
 * runs so) and dtype, the weight a scaled copy of a leaf (as ActNorm's fold makes it), a bias. Each shape runs
 * {@code repeats} times; before every repeat after the first, memory of the operands' sizes is filled with NaN and
 * released, so a kernel that reads memory it never wrote sees NaN instead of whatever the allocator left there
 * (a class of fault that an isolated test on fresh memory passes).
 */
public final class FastPathCheck {
    /** Relative error (max |fast - reference| / max |reference|) above which a shape fails, per dtype. */
    public static double tolerance(ScalarType dtype) {
        return switch (dtype) {
            case Double -> 1e-10;
            case Float -> 1e-4;
            default -> 3e-2; // bf16 / fp16 outputs carry 8 / 11 bits
        };
    }

    /** One shape's result: {@code error} is the worst relative error over output and gradients. */
    public record Outcome(ConvShape shape, boolean passed, double error, String problem, double millis) {
        public String line() {
            return String.format(Locale.ROOT, "%-58s %s  max rel. error %.1e%s  (%.0f ms)", shape,
                    passed ? "ok  " : "FAIL", error, problem.isEmpty() ? "" : "  " + problem, millis);
        }
    }

    public record Report(List<Outcome> outcomes, double millis) {
        public List<Outcome> failed() {
            return outcomes.stream().filter(o -> !o.passed()).toList();
        }

        public boolean passed() {
            return failed().isEmpty();
        }

        public double worstError() {
            return outcomes.stream().mapToDouble(Outcome::error).max().orElse(0);
        }
    }

    private FastPathCheck() {}

    /**
     * Checks every shape (each with its batch size) on {@code device} and routes the failing ones to the reference
     * path. Random operands come from libtorch's default generator.
     */
    public static Report run(Collection<ConvShape> shapes, int repeats, String device) {
        long t0 = System.nanoTime();
        List<Outcome> out = new ArrayList<>();
        for (ConvShape sh : shapes) {
            Outcome o = check(sh, repeats, device);
            if (!o.passed()) ConvRouting.routeToReference(sh);
            out.add(o);
        }
        return new Report(out, (System.nanoTime() - t0) / 1e6);
    }

    private static final String[] NAMES = {"output", "input gradient", "weight gradient", "bias gradient"};

    static Outcome check(ConvShape sh, int repeats, String device) {
        long t0 = System.nanoTime();
        double worst = 0;
        String problem = "";
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions().dtype(new ScalarTypeOptional(ScalarType.Float))
                    .device(new DeviceOptional(new Device(device)));
            long b = Math.max(1, sh.batch());
            Tensor x0 = torch.randn(new long[] {b, sh.in(), sh.height(), sh.width()}, f32);
            Tensor w0 = torch.randn(new long[] {sh.out(), sh.in(), sh.kh(), sh.kw()}, f32)
                    .mul(s(1.0 / Math.sqrt(sh.in() * sh.kh() * sh.kw())));
            Tensor scale = torch.rand(new long[] {sh.out(), 1, 1, 1}, f32).add(s(0.5));
            Tensor b0 = torch.randn(new long[] {sh.out()}, f32).mul(s(0.1));
            Tensor[] ref = pass(sh, x0, w0, scale, b0, null, false);
            for (int r = 0; r < Math.max(1, repeats); r++) {
                // each repeat's tensors are freed with it (the check's peak memory is one pass, not all of them)
                try (PointerScope repeat = new PointerScope()) {
                    if (r > 0) poison(x0, w0, ref[0]);
                    Tensor[] fast = pass(sh, x0, w0, scale, b0, ref[4], true);
                    for (int i = 0; i < 4; i++) {
                        boolean fastFinite = Tensors.allFinite(fast[i]), refFinite = Tensors.allFinite(ref[i]);
                        if (!fastFinite && refFinite) {
                            worst = Double.POSITIVE_INFINITY;
                            if (problem.isEmpty()) problem = "non-finite " + NAMES[i] + " (repeat " + (r + 1) + ")";
                            continue;
                        }
                        double e = relativeError(fast[i], ref[i]);
                        if (e > worst) worst = e;
                        if (e > tolerance(sh.dtype()) && problem.isEmpty()) {
                            problem = String.format(Locale.ROOT, "%s off by %.1e (repeat %d)", NAMES[i], e, r + 1);
                        }
                    }
                }
            }
        }
        boolean ok = problem.isEmpty();
        return new Outcome(sh, ok, worst, problem, (System.nanoTime() - t0) / 1e6);
    }

    /**
     * Output and gradients (input, weight leaf, bias) of one convolution on either path; element 4 is the output
     * gradient used, so both paths get the same one.
     */
    private static Tensor[] pass(ConvShape sh, Tensor x0, Tensor w0, Tensor scale, Tensor b0, Tensor gy, boolean fast) {
        long rows = x0.size(0);
        int chunk = Conv.referenceChunk(rows);
        if (fast || chunk == rows) return whole(sh, x0, w0, scale, b0, gy, fast);
        // the reference path a few images at a time (Conv.referenceChunk): the output and input gradient are the
        // chunks' put together, the weight and bias gradients their sums
        if (gy == null) {
            long ho = sh.height() + 2 * sh.ph() - sh.kh() + 1, wo = sh.width() + 2 * sh.pw() - sh.kw() + 1;
            gy = torch.randn(new long[] {rows, sh.out(), ho, wo}, Tensors.optionsLike(x0)).to(sh.dtype());
        }
        TensorOptions run = Tensors.optionsLike(x0).dtype(new ScalarTypeOptional(sh.dtype()));
        Tensor y = torch.zeros(gy.sizes().vec().get(), run), gx = torch.zeros(x0.sizes().vec().get(), run);
        Tensor gw = torch.zeros_like(w0), gb = torch.zeros_like(b0);
        for (long r0 = 0; r0 < rows; r0 += chunk) {
            try (PointerScope part = new PointerScope()) { // a chunk's tensors go with it; the sums live outside
                Tensor[] g = whole(sh, x0.narrow(0, r0, chunk), w0, scale, b0, gy.narrow(0, r0, chunk), false);
                y.narrow(0, r0, chunk).copy_(g[0]);
                gx.narrow(0, r0, chunk).copy_(g[1]);
                gw.add_(g[2]);
                gb.add_(g[3]);
            }
        }
        return new Tensor[] {y, gx, gw, gb, gy};
    }

    private static Tensor[] whole(ConvShape sh, Tensor x0, Tensor w0, Tensor scale, Tensor b0, Tensor gy, boolean fast) {
        Tensor x = x0.to(sh.dtype());
        if (sh.channelsLast()) x = x.contiguous(MemoryFormat.ChannelsLast);
        x = x.detach().requires_grad_(true);
        Tensor w = w0.detach().requires_grad_(true);
        Tensor bias = b0.detach().requires_grad_(true);
        Tensor weight = w.mul(scale).to(sh.dtype());
        Tensor bb = bias.to(sh.dtype());
        Tensor y = fast ? Conv.fast(x, weight, bb, sh.ph(), sh.pw()) : Conv.reference(x, weight, bb, sh.ph(), sh.pw());
        if (gy == null) gy = torch.randn_like(y.to(ScalarType.Float)).to(sh.dtype());
        TensorVector g = torch.grad(new TensorVector(y.mul(gy).sum()), new TensorVector(x, w, bias));
        return new Tensor[] {y.detach(), g.get(0), g.get(1), g.get(2), gy};
    }

    /** Fills freed memory of the operands' sizes with NaN, so the next allocations of those sizes start as NaN. */
    private static void poison(Tensor... like) {
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> junk = new ArrayList<>();
            for (Tensor t : like) {
                for (int copy = 0; copy < 3; copy++) {
                    junk.add(torch.full(new long[] {t.numel() + 64}, s(Double.NaN), Tensors.optionsLike(t)
                            .dtype(new ScalarTypeOptional(ScalarType.Float))));
                }
            }
        }
    }

    /** max |a - b| / max |b| in float64 (0 when both are 0). */
    static double relativeError(Tensor a, Tensor b) {
        // its own scope: the float64 copies (five of the operand's size) are freed here, not at the end of the
        // shape's check, where eight comparisons' worth had added 200 MB to a run's peak memory
        try (PointerScope scope = new PointerScope()) {
            Tensor ad = a.to(ScalarType.Double), bd = b.to(ScalarType.Double);
            double diff = ad.sub(bd).abs().max().item_double();
            double scale = bd.abs().max().item_double();
            if (Double.isNaN(diff)) return Double.POSITIVE_INFINITY;
            return scale > 0 ? diff / scale : diff;
        }
    }
}
