package woodflow.sample;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.data.ShapeSource;
import woodflow.model.Conditioning;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.model.Permutation;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Latent interpolation: exact ends, the two paths' formulas, class-conditional models along mixed labels. */
class InterpolationTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static MultiScaleFlow model(boolean conditional) {
        ModelConfig m = ModelConfig.of(3, 8, 8, 2, 1, 8, Permutation.WOODBURY)
                .withLatentDims(new int[] {2, 2}, new int[] {3, 3}, null, null);
        if (conditional) m = m.withClasses(Conditioning.CLASS, ShapeSource.KIND_NAMES, 0);
        torch.manual_seed(4);
        MultiScaleFlow f = new MultiScaleFlow(m, Init.float32());
        try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
            for (Tensor p : f.parameters()) p.add_(torch.randn_like(p).mul(Tensors.s(0.05)));
        }
        return f;
    }

    @Test
    void theEndsAreTheImagesAndBothPathsRun() {
        ShapeSource shapes = new ShapeSource(2, 3, 8, 0, 0);
        byte[] a = shapes.image(0), b = shapes.image(1);
        for (boolean conditional : new boolean[] {false, true}) {
            MultiScaleFlow m = model(conditional);
            Integer la = conditional ? 0 : null, lb = conditional ? 2 : null;
            Interpolation.Strip s = Interpolation.between(m, a, b, 5, Interpolation.Mode.BOTH, 5, la, lb);
            assertThat(s.images()).hasSize(10);
            assertThat(s.rows()).containsExactly("linear", "spherical");
            assertThat(s.columns()).containsExactly("A", "0.25", "0.50", "0.75", "B");
            for (int row = 0; row < 2; row++) {
                assertThat(quantised(s.images().get(row * 5), 5)).as("row %d starts at A", row).isEqualTo(quantised(a, 5));
                assertThat(quantised(s.images().get(row * 5 + 4), 5)).as("row %d ends at B", row)
                        .isEqualTo(quantised(b, 5));
            }
            assertThat(s.images().get(2)).isNotEqualTo(s.images().get(7)); // the two paths part in the middle
            assertThat(s.png(3, 8, 8, "title")).isNotEmpty();
        }
        assertThatThrownBy(() -> Interpolation.between(model(true), a, b, 5, Interpolation.Mode.LINEAR, 5, null, null))
                .hasMessageContaining("needs the classes of both images");
        assertThatThrownBy(() -> Interpolation.between(model(false), a, b, 1, Interpolation.Mode.LINEAR, 5, null, null))
                .hasMessageContaining("--steps must be between 2 and 64");
    }

    /** Pixels reduced to n bits and back, as the model sees and returns them. */
    private static byte[] quantised(byte[] image, int nBits) {
        byte[] out = new byte[image.length];
        int step = 1 << (8 - nBits);
        for (int i = 0; i < out.length; i++) out[i] = (byte) ((image[i] & 255) / step * step);
        return out;
    }

    @Test
    void linearAndSphericalPathsFollowTheirFormulas() {
        torch.manual_seed(1);
        Tensor a = torch.randn(new long[] {1, 4, 2, 2}), b = torch.randn(new long[] {1, 4, 2, 2});
        double[] ts = {0, 0.5, 1};
        Tensor lin = Interpolation.interpolate(a, b, ts, Interpolation.Mode.LINEAR);
        assertThat(lin.select(0, 1).sub(a.add(b).mul(Tensors.s(0.5)).squeeze(0)).abs().max().item_double()).isLessThan(1e-6);
        Tensor sph = Interpolation.interpolate(a, b, ts, Interpolation.Mode.SPHERICAL);
        assertThat(sph.select(0, 0).sub(a.squeeze(0)).abs().max().item_double()).isLessThan(1e-5);
        assertThat(sph.select(0, 2).sub(b.squeeze(0)).abs().max().item_double()).isLessThan(1e-5);
        // half-way the spherical path keeps the ends' (mean) norm; the linear one falls inside it
        double na = a.norm().item_double(), nb = b.norm().item_double();
        double mid = sph.select(0, 1).norm().item_double();
        assertThat(mid).isGreaterThan(lin.select(0, 1).norm().item_double());
        assertThat(mid).isGreaterThan(0.9 * Math.min(na, nb));
        List.of(Interpolation.Mode.values()).forEach(m -> assertThat(Interpolation.Mode.parse(m.label())).isEqualTo(m));
    }
}
