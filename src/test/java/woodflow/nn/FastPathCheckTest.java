package woodflow.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.core.Tensors.s;

class FastPathCheckTest {
    static final ConvShape SMALL_IN = new ConvShape(8, 6, 16, 3, 3, 1, 1, 8, 8, ScalarType.Float, true);
    static final ConvShape POINTWISE = new ConvShape(8, 16, 16, 1, 1, 0, 0, 8, 8, ScalarType.Float, true);
    static final ConvShape NCHW = new ConvShape(4, 6, 12, 3, 3, 1, 1, 8, 8, ScalarType.Float, false);
    static final ConvShape BF16 = new ConvShape(8, 6, 16, 3, 3, 1, 1, 8, 8, ScalarType.BFloat16, true);

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @AfterEach
    void clean() {
        ConvRouting.injectFault(null);
        ConvRouting.reset();
    }

    /** The fast path is correct on this machine for the kinds of call the models make (else nothing here is). */
    @Test
    void fastPathAgreesWithTheReferenceHere() {
        FastPathCheck.Report r = FastPathCheck.run(List.of(SMALL_IN, POINTWISE, NCHW, BF16), 2, "cpu");
        for (FastPathCheck.Outcome o : r.outcomes()) assertThat(o.passed()).as(o.line()).isTrue();
        assertThat(r.worstError()).isLessThan(FastPathCheck.tolerance(ScalarType.BFloat16));
        assertThat(ConvRouting.isReference(SMALL_IN)).isFalse();
    }

    @Test
    void aWrongOutputRoutesThatShapeToTheReferencePath() {
        ConvRouting.injectFault((shape, y) -> shape.in() == 6 && shape.channelsLast() ? y.mul(s(1.01)) : y);
        FastPathCheck.Report r = FastPathCheck.run(List.of(SMALL_IN, POINTWISE), 1, "cpu");
        assertThat(r.failed()).extracting(FastPathCheck.Outcome::shape).containsExactly(SMALL_IN);
        assertThat(r.failed().get(0).problem()).contains("output off by");
        assertThat(ConvRouting.isReference(SMALL_IN.withBatch(3))).as("any batch of that geometry").isTrue();
        assertThat(ConvRouting.isReference(POINTWISE)).isFalse();

        // the model's calls of that shape now take the reference path, and give the right numbers
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.randn(8, 6, 8, 8).contiguous(MemoryFormat.ChannelsLast);
            Tensor w = torch.randn(16, 6, 3, 3);
            long before = ConvRouting.fastCalls();
            Tensor y = Conv.same(x, w, null);
            assertThat(ConvRouting.fastCalls()).isEqualTo(before);
            Tensor expected = Conv.reference(x, w, null, 1, 1);
            assertThat(y.sub(expected).abs().max().item_double()).isEqualTo(0.0);
            assertThat(y.is_contiguous(MemoryFormat.ChannelsLast)).as("the layout is kept").isTrue();
            Conv.same(torch.randn(8, 16, 8, 8).contiguous(MemoryFormat.ChannelsLast), torch.randn(16, 16, 1, 1), null);
            assertThat(ConvRouting.fastCalls()).as("other shapes stay fast").isEqualTo(before + 1);
        }
    }

    /** The fault seen on AMD Zen 5: a finite output, a NaN input gradient. */
    @Test
    void aNonFiniteGradientWithAFiniteOutputIsCaught() {
        ConvRouting.injectFault(ConvRouting.Fault.nanGradient(shape -> shape.in() == 6));
        FastPathCheck.Report r = FastPathCheck.run(List.of(NCHW, POINTWISE), 2, "cpu");
        assertThat(r.failed()).extracting(FastPathCheck.Outcome::shape).containsExactly(NCHW);
        assertThat(r.failed().get(0).problem()).contains("non-finite input gradient");
    }

    @Test
    void shapesNameWhatAPersonNeedsToReproduce() {
        assertThat(SMALL_IN.toString()).isEqualTo("3x3 conv 6->16 at 8x8, batch 8, fp32, channels-last");
        assertThat(BF16.geometry().toString()).isEqualTo("3x3 conv 6->16 at 8x8, bf16, channels-last");
    }

    /**
     * On an AMD EPYC Zen 5 (family 26 model 2) libtorch 2.10's oneDNN gets float32 convolutions in NCHW wrong for
     * channel counts that are not multiples of 16 (the blocked formats it pads them to): NaN or 30-50% off input
     * gradients (6->12, 12->6, 3->12 at batch 2 and up) and even a 30% off output (24->48 at 16x16), on its AVX-512 and
     * AVX2 kernels alike, while the same calls in channels-last are right. The fast path therefore runs every CPU
     * call in channels-last; here each is held against float64 on the reference kernels, output and gradients.
     */
    @Test
    void nchwCallsOfTheFastPathAreRightAgainstFloat64() {
        int[][] shapes = {{6, 12, 8}, {12, 6, 8}, {3, 12, 8}, {24, 48, 16}, {6, 16, 8}};
        for (int[] sh : shapes) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x0 = torch.randn(32, sh[0], sh[2], sh[2]).to(ScalarType.Double);
                Tensor w0 = torch.randn(sh[1], sh[0], 3, 3).to(ScalarType.Double);
                Tensor b0 = torch.randn(sh[1]).to(ScalarType.Double);
                Tensor gy = torch.randn(32, sh[1], sh[2], sh[2]).to(ScalarType.Double);
                Tensor[] truth = grads(x0, w0, b0, gy, ScalarType.Double, false);
                Tensor[] fast = grads(x0, w0, b0, gy, ScalarType.Float, true);
                String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
                for (int i = 0; i < 4; i++) {
                    double e = FastPathCheck.relativeError(fast[i], truth[i]);
                    assertThat(e).as("%d->%d at %dx%d NCHW, %s", sh[0], sh[1], sh[2], sh[2], names[i]).isLessThan(1e-5);
                }
                assertThat(fast[0].is_contiguous()).as("an NCHW call gets an NCHW output").isTrue();
            }
        }
    }

    private static Tensor[] grads(Tensor x0, Tensor w0, Tensor b0, Tensor gy, ScalarType dt, boolean fast) {
        Tensor x = x0.to(dt).detach().requires_grad_(true);
        Tensor w = w0.to(dt).detach().requires_grad_(true);
        Tensor b = b0.to(dt).detach().requires_grad_(true);
        Tensor y = fast ? Conv.fast(x, w, b, 1, 1) : Conv.reference(x, w, b, 1, 1);
        org.bytedeco.pytorch.TensorVector g = torch.grad(new org.bytedeco.pytorch.TensorVector(y.mul(gy.to(dt)).sum()),
                new org.bytedeco.pytorch.TensorVector(x, w, b));
        return new Tensor[] {y.detach(), g.get(0), g.get(1), g.get(2)};
    }
}
