package woodflow.coupling;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Tensors;
import woodflow.coupling.MaskedAffineCoupling.Direction;
import woodflow.layers.DenseJacobian;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The MaCow couplings beyond the shared contract: each direction's output at a row (column) depends only on the
 * rows (columns) already visited and, within its own row, only on the same element; and the row-by-row inverse, which
 * runs the network on crops, is exact on images taller than the network's receptive field.
 */
class MaCowUnitTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static void perturb(Module m, double std) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(std)));
        }
    }

    /** Whether the input at (inRow, inCol) lies on a line visited before the output at (outRow, outCol). */
    private static boolean visitedBefore(Direction d, int inRow, int inCol, int outRow, int outCol) {
        return switch (d) {
            case ABOVE -> inRow < outRow;
            case BELOW -> inRow > outRow;
            case LEFT -> inCol < outCol;
            case RIGHT -> inCol > outCol;
        };
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void eachOutputLineDependsOnlyOnLinesAlreadyVisited(Direction direction) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(51 + direction.ordinal());
            int c = 2, h = 5, w = 4;
            MaskedAffineCoupling coupling = new MaskedAffineCoupling(direction, c, 6, 3, 1.0, Init.float64());
            Tensor x = torch.randn(new long[] {1, c, h, w}, Tensors.options(ScalarType.Double));
            coupling.forward(x); // ActNorm's data-dependent initialisation
            perturb(coupling, 0.2);
            double[][] jac = DenseJacobian.of(v -> coupling.forward(v).out(), x);
            double logDiagonal = 0;
            int fromVisited = 0;
            for (int o = 0; o < c; o++) for (int r = 0; r < h; r++) for (int q = 0; q < w; q++) {
                int out = DenseJacobian.index(o, r, q, h, w);
                for (int i = 0; i < c; i++) for (int rr = 0; rr < h; rr++) for (int qq = 0; qq < w; qq++) {
                    double v = jac[out][DenseJacobian.index(i, rr, qq, h, w)];
                    boolean same = i == o && rr == r && qq == q;
                    if (same) {
                        assertThat(v).as("scale on the diagonal").isGreaterThan(0.0).isLessThan(1.0);
                        logDiagonal += Math.log(v);
                    } else if (visitedBefore(direction, rr, qq, r, q)) {
                        if (v != 0) fromVisited++;
                    } else {
                        assertThat(Math.abs(v)).as("d y[%d,%d,%d] / d x[%d,%d,%d]", o, r, q, i, rr, qq).isEqualTo(0.0);
                    }
                }
            }
            assertThat(fromVisited).as("dependencies on visited lines exist").isGreaterThan(0);
            FlowResult f = coupling.forward(x);
            assertThat(f.logDet().item_double()).as("log-det = sum log scale").isCloseTo(logDiagonal, within(1e-10));
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void rowByRowInverseOnCropsIsExactOnLargeImages(Direction direction) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(61 + direction.ordinal());
            int c = 3, h = 11, w = 9;
            MaskedAffineCoupling coupling = new MaskedAffineCoupling(direction, c, 8, 3, 1.0, Init.float64());
            Tensor x = torch.randn(new long[] {2, c, h, w}, Tensors.options(ScalarType.Double));
            coupling.forward(x);
            perturb(coupling, 0.1);
            FlowResult f = coupling.forward(x);
            FlowResult b = coupling.inverse(f.out());
            assertThat(b.out().sub(x).abs().max().item_double()).isLessThan(1e-10);
            assertThat(b.logDet().add(f.logDet()).abs().max().item_double()).isLessThan(1e-10);
        }
    }
}
