package woodflow.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;

import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The emulated bf16 convolution (fast and reference paths) computes what a native bf16 kernel computes, forward and
 * backward.
 */
class Bf16KernelsTest {
    private static Bf16Kernels before;

    @BeforeAll
    static void load() {
        Tensors.load();
        before = Bf16Kernels.current();
    }

    @AfterEach
    void restore() {
        Bf16Kernels.use(before);
    }

    /** Runs {@code f} under bf16 autocast, as {@link woodflow.core.Precision#conditioner} does. */
    static <T> T autocast(Supplier<T> f) {
        torch.set_autocast_enabled(DeviceType.CPU, true);
        torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
        try {
            return f.get();
        } finally {
            torch.set_autocast_enabled(DeviceType.CPU, false);
            torch.set_autocast_dtype(DeviceType.CPU, ScalarType.BFloat16);
        }
    }

    static Tensor bf16(Tensor t) {
        return t.to(ScalarType.BFloat16).to(ScalarType.Double);
    }

    /** Largest |a - b| over the largest |b|. */
    static double relErr(Tensor a, Tensor b) {
        Tensor bd = b.to(ScalarType.Double);
        return a.to(ScalarType.Double).sub(bd).abs().max().item_double() / bd.abs().max().item_double();
    }

    @ParameterizedTest(name = "{0}x{0} conv {1}->{2}, channels-last {3}")
    @CsvSource({"3, 6, 16, true", "1, 16, 16, true", "3, 16, 4, false"})
    void theOutputIsTheBf16RoundingOfTheConvolutionOfBf16RoundedOperands(int k, int in, int out, boolean cl) {
        Bf16Kernels.use(Bf16Kernels.EMULATED);
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(3);
            Tensor x = torch.randn(4, in, 8, 8);
            if (cl) x = x.contiguous(MemoryFormat.ChannelsLast);
            Tensor w = torch.randn(out, in, k, k), b = torch.randn(out);
            Tensor xx = x;
            Tensor exact = torch.conv2d(bf16(x), bf16(w), new TensorOptional(bf16(b)), new long[] {1, 1},
                    new long[] {k / 2, k / 2}, new long[] {1, 1}, 1);
            for (boolean reference : new boolean[] {false, true}) {
                String path = reference ? "reference path" : "fast path";
                Tensor y = autocast(() -> reference ? Conv.reference(xx, w, b, k / 2, k / 2)
                        : Conv.fast(xx, w, b, k / 2, k / 2));
                assertThat(Tensors.dtype(y)).as(path + ": the dtype autocast's conv2d gives")
                        .isEqualTo(ScalarType.BFloat16);
                assertThat(y.is_contiguous(MemoryFormat.ChannelsLast) && !y.is_contiguous()).as(path).isEqualTo(cl);
                // one rounding to bf16 (8 significant bits) apart from the exact value, elementwise
                Tensor err = y.to(ScalarType.Double).sub(exact).abs();
                Tensor bound = exact.abs().mul(Tensors.s(Math.pow(2, -8) * 1.01)).add(Tensors.s(1e-6));
                assertThat(err.le(bound).all().item_bool()).as(path + ": within half a bf16 ulp of the exact value")
                        .isTrue();
            }
        }
    }

    @ParameterizedTest(name = "{0}x{0} conv {1}->{2}, channels-last {3}")
    @CsvSource({"3, 6, 16, true", "1, 16, 16, true", "3, 16, 4, false"})
    void emulatedAndNativeBf16KernelsAgreeForwardAndBackward(int k, int in, int out, boolean cl) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] nat = run(Bf16Kernels.NATIVE, k, in, out, cl);
            Tensor[] emu = run(Bf16Kernels.EMULATED, k, in, out, cl);
            String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
            for (int i = 0; i < nat.length; i++) {
                assertThat(Tensors.dtype(emu[i])).as(names[i] + " dtype").isEqualTo(Tensors.dtype(nat[i]));
                assertThat(relErr(emu[i], nat[i])).as(names[i]).isLessThan(2e-2);
            }
        }
    }

    /** The reference path (im2col + matmul) emulates bf16 the same way, against libtorch's bf16 reference kernels. */
    @ParameterizedTest(name = "{0}x{0} conv {1}->{2}, channels-last {3}")
    @CsvSource({"3, 6, 16, true", "1, 16, 16, true", "3, 16, 4, false"})
    void theReferencePathEmulatesToo(int k, int in, int out, boolean cl) {
        try (PointerScope scope = new PointerScope()) {
            Tensor[] nat = run(Bf16Kernels.NATIVE, k, in, out, cl, true);
            Tensor[] emu = run(Bf16Kernels.EMULATED, k, in, out, cl, true);
            Tensor[] fast = run(Bf16Kernels.EMULATED, k, in, out, cl, false);
            String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
            for (int i = 0; i < nat.length; i++) {
                assertThat(Tensors.dtype(emu[i])).as(names[i] + " dtype").isEqualTo(Tensors.dtype(nat[i]));
                assertThat(relErr(emu[i], nat[i])).as(names[i]).isLessThan(2e-2);
                assertThat(relErr(emu[i], fast[i])).as(names[i] + " against the fast path").isLessThan(2e-2);
            }
        }
    }

    private static Tensor[] run(Bf16Kernels path, int k, int in, int out, boolean cl) {
        return run(path, k, in, out, cl, false);
    }

    /** Output, then the gradients of sum(y * r) with respect to x, weight and bias. */
    private static Tensor[] run(Bf16Kernels path, int k, int in, int out, boolean cl, boolean reference) {
        Bf16Kernels.use(path);
        torch.manual_seed(5);
        Tensor x0 = torch.randn(4, in, 8, 8);
        Tensor x = (cl ? x0.contiguous(MemoryFormat.ChannelsLast) : x0).set_requires_grad(true);
        Tensor w = torch.randn(out, in, k, k).set_requires_grad(true), b = torch.randn(out).set_requires_grad(true);
        Tensor r = torch.randn(4, out, 8, 8);
        Tensor y = autocast(() -> reference ? Conv.reference(x, w, b, k / 2, k / 2) : Conv.fast(x, w, b, k / 2, k / 2));
        TensorVector g = torch.grad(new TensorVector(y.to(ScalarType.Float).mul(r).sum()), new TensorVector(x, w, b));
        return new Tensor[] {y.detach(), g.get(0), g.get(1), g.get(2)};
    }

    @Test
    void aCpuWithoutBf16DotProductsEmulatesUnlessTold() {
        assertThat(Bf16Kernels.choose(null, false)).isEqualTo(Bf16Kernels.EMULATED);
        assertThat(Bf16Kernels.choose("", true)).isEqualTo(Bf16Kernels.NATIVE);
        assertThat(Bf16Kernels.choose(" Native ", false)).isEqualTo(Bf16Kernels.NATIVE);
        assertThat(Bf16Kernels.choose("emulated", true)).isEqualTo(Bf16Kernels.EMULATED);
        assertThatThrownBy(() -> Bf16Kernels.choose("fast", true))
                .hasMessage("WOODFLOW_BF16_KERNELS=fast is not a bf16 kernel path: use native or emulated (or unset it)");
    }

    @Test
    void float32AndFloat64ConvolutionsNeverTakeTheEmulatedPath() {
        Bf16Kernels.use(Bf16Kernels.EMULATED);
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(2, 3, 5, 5), w = torch.randn(4, 3, 3, 3);
            assertThat(Bf16Kernels.emulates(x)).isFalse();
            assertThat(Bf16Kernels.emulates(x.to(ScalarType.Double))).isFalse();
            assertThat(autocast(() -> Bf16Kernels.emulates(x))).isTrue();
            assertThat(Conv.fast(x, w, null, 1, 1).sub(torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1},
                    new long[] {1, 1}, new long[] {1, 1}, 1)).abs().max().item_double()).isEqualTo(0.0);
        }
    }
}
