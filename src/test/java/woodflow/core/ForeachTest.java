package woodflow.core;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The multi-tensor kernels called through the dispatcher, and what happens when the engine refuses a call. */
class ForeachTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @AfterEach
    void reset() {
        Foreach.resetRefusal();
    }

    @Test
    void listKernelsZeroAndMeasureEveryTensor() {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = torch.randn(new long[] {3, 4}), b = torch.randn(new long[] {7});
            List<Tensor> norms = Foreach.norms(List.of(a, b));
            assertThat(norms).hasSize(2);
            assertThat(norms.get(0).item_double()).isCloseTo(a.norm().item_double(), within(1e-5));
            assertThat(norms.get(1).item_double()).isCloseTo(b.norm().item_double(), within(1e-5));
            assertThat(Foreach.zero(List.of(a, b))).isTrue();
            assertThat(a.abs().sum().item_double() + b.abs().sum().item_double()).isZero();
        }
    }

    @Test
    void aKernelThatRaisesAnErrorLeavesTheTensorsAloneAndSwitchesTheKernelsOff() {
        try (PointerScope scope = new PointerScope()) {
            Tensor p = torch.randn(new long[] {5}), m = torch.zeros(5), v = torch.zeros(5), step = torch.ones(1);
            Tensor before = p.clone();
            assertThat(Foreach.available()).isTrue();
            // a gradient list shorter than the parameter list: the kernel's own check refuses it
            assertThat(Foreach.fusedAdamW(List.of(p), List.of(), List.of(m), List.of(v), step, 1e-3, 0.9, 0.999, 0,
                    1e-8)).isFalse();
            assertThat(p.equal(before)).isTrue();
            assertThat(Foreach.available()).as("callers take their per-tensor path from then on").isFalse();
        }
    }
}
