package woodflow.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.MachineInfo;

import java.util.Locale;
import java.util.Set;

/**
 * How a bfloat16 convolution runs on this CPU.
 * <ul>
 *   <li><b>native</b>: the engine's bf16 kernels (oneDNN with {@code avx512_bf16} or AMX dot products), up to several
 *       times the float32 rate;</li>
 *   <li><b>emulated</b>: the float32 kernels on operands rounded to bfloat16, with the output rounded to bfloat16.
 *       The product of two bf16 numbers is exact in float32 and both ways accumulate in float32, so the result is
 *       the same as a native kernel's but for the order of the sums; the gradients pass through the same roundings
 *       (each cast's backward rounds the gradient as a native bf16 kernel's output would be).</li>
 * </ul>
 * A CPU without bf16 dot-product instructions gets the emulated path: there libtorch's own bf16 convolutions fall back
 * to scalar loops (measured on an AMD EPYC Zen 3: a bf16 matmul at 1.3 GFLOP/s against 73 in float32, and the demo
 * model's training step 6x slower in bf16-mixed than in float32). {@code WOODFLOW_BF16_KERNELS=native|emulated}
 * overrides the choice. Either way the path is checked against the reference convolution by {@link FastPathCheck}.
 */
public enum Bf16Kernels {
    NATIVE, EMULATED;

    private static volatile Bf16Kernels current = detect();

    /** The path bf16 convolutions take in this process. */
    public static Bf16Kernels current() {
        return current;
    }

    /** Sets the path (tests, and the environment override); returns the previous one. */
    public static Bf16Kernels use(Bf16Kernels k) {
        Bf16Kernels was = current;
        current = k;
        return was;
    }

    /** What this CPU gets: native only with bf16 dot-product instructions, unless the environment says otherwise. */
    static Bf16Kernels detect() {
        return choose(System.getenv("WOODFLOW_BF16_KERNELS"), cpuHasBf16DotProducts());
    }

    /** The path for an override ({@code null} or blank: none) on a CPU with or without bf16 dot products. */
    static Bf16Kernels choose(String override, boolean bf16DotProducts) {
        if (override == null || override.isBlank()) return bf16DotProducts ? NATIVE : EMULATED;
        try {
            return valueOf(override.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("WOODFLOW_BF16_KERNELS=" + override
                    + " is not a bf16 kernel path: use native or emulated (or unset it)");
        }
    }

    /** {@code avx512_bf16} or {@code amx_bf16} among the first processor's flags (none known, e.g. not Linux: true). */
    static boolean cpuHasBf16DotProducts() {
        Set<String> flags = MachineInfo.cpuFlags();
        // not Linux: trust the engine's own kernels
        return flags.isEmpty() || flags.contains("avx512_bf16") || flags.contains("amx_bf16");
    }

    /** e.g. {@code emulated (float32 kernels on bf16-rounded operands: no avx512_bf16 or AMX on this CPU)}. */
    public String describe() {
        return this == NATIVE ? "native (the engine's bf16 kernels)"
                : "emulated (float32 kernels on bf16-rounded operands: no avx512_bf16 or AMX on this CPU)";
    }

    /** Whether a convolution of {@code x} takes the emulated path: it runs in bf16 and this process emulates. */
    static boolean emulates(Tensor x) {
        return current == EMULATED && ConvShape.runDtype(x) == ScalarType.BFloat16;
    }

    /** {@code t} rounded to bfloat16 and held in float32 (a bf16 tensor is only widened, exactly). */
    static Tensor rounded(Tensor t) {
        return t.to(ScalarType.BFloat16).to(ScalarType.Float);
    }

    /**
     * The emulated bf16 convolution: {@code weight} and {@code bias} (of any floating dtype) and {@code x} rounded to
     * bf16, convolved in float32 with autocast off, the output rounded to bf16 (the dtype autocast's conv2d gives).
     * The input's layout is kept; a channels-last input gets a channels-last kernel, as on the native path.
     */
    static Tensor conv(Tensor x, Tensor weight, Tensor bias, long ph, long pw, boolean channelsLastKernel) {
        Tensor xf = rounded(x), wf = rounded(weight);
        if (channelsLastKernel) wf = wf.contiguous(torch.MemoryFormat.ChannelsLast);
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(rounded(bias));
        DeviceType dev = x.device().type();
        boolean was = torch.is_autocast_enabled(dev);
        if (was) torch.set_autocast_enabled(dev, false);
        try {
            return torch.conv2d(xf, wf, b, new long[] {1, 1}, new long[] {ph, pw}, new long[] {1, 1}, 1)
                    .to(ScalarType.BFloat16);
        } finally {
            if (was) torch.set_autocast_enabled(dev, true);
        }
    }
}
