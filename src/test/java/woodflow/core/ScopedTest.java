package woodflow.core;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.core.Tensors.s;

/**
 * {@link Tensors#scoped}: a block's temporaries are freed when it ends, its result lives on in the caller's scope,
 * and a result that is the caller's own tensor is neither freed early nor leaked.
 */
class ScopedTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void temporariesAreFreedAndTheResultSurvives() {
        Tensor[] temporary = new Tensor[1];
        try (PointerScope outer = new PointerScope()) {
            Tensor result = Tensors.scoped(() -> {
                temporary[0] = torch.ones(1000).mul(s(3));
                return temporary[0].add(s(1));
            });
            assertThat(temporary[0].isNull()).as("the block's temporary was freed").isTrue();
            assertThat(result.sum().item_double()).isEqualTo(4000.0);
            assertThat(result.use_count()).isEqualTo(1);
        }
    }

    @Test
    void aResultFromTheCallersScopeStaysValidAndOwnedOnce() {
        try (PointerScope outer = new PointerScope()) {
            Tensor x = torch.ones(10);
            Tensor same = Tensors.scoped(() -> x);
            assertThat(x.isNull()).isFalse();
            assertThat(same.sum().item_double()).isEqualTo(10.0);
            assertThat(x.use_count()).as("x and the handed-out handle").isEqualTo(2);
        }
    }

    @Test
    void flowResultsKeepOutputAndLogDetAndGradientsFlow() {
        try (PointerScope outer = new PointerScope()) {
            Tensor w = torch.ones(3).requires_grad_(true);
            FlowResult r = Tensors.scopedFlow(() -> {
                Tensor scaled = w.mul(s(2));
                return new FlowResult(scaled.exp(), scaled.sum().reshape(1));
            });
            r.out().sum().add(r.logDet().sum()).backward();
            // d/dw [sum exp(2w) + sum 2w] = 2 exp(2) + 2 per element
            assertThat(w.grad().select(0, 0).item_double()).isCloseTo(2 * Math.exp(2) + 2, org.assertj.core.data.Offset.offset(1e-5));
        }
    }
}
