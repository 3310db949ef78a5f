package woodflow.layers;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.FlowResult;
import woodflow.core.Init;
import woodflow.core.Tensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * The Woodbury and ME-Woodbury formulas (Lu &amp; Huang, 2020; ME-Woodbury: supplement, Appendix B, Eq. 3-5;
 * docs/FORMULAS.md) term by term: tiny Woodbury and ME-Woodbury layers against the dense matrices
 * (I + U V) formed explicitly, and the same layers at 256x256 in float32.
 */
class WoodburyDenseTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static Tensor dense(LowRankFactor f) {
        return torch.eye(f.size(), Tensors.optionsLike(f.u())).add(f.u().matmul(f.v()));
    }

    private static void perturb(woodflow.core.Module m) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(0.3)));
        }
    }

    private static double maxAbs(Tensor t) {
        return t.abs().max().item_double();
    }

    @Test
    void woodburyMatchesDenseChannelAndSpatialMatrices() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(3);
            int c = 3, h = 4, w = 5, n = h * w;
            WoodburyTransform t = new WoodburyTransform(c, h, w, 2, 3, Init.float64());
            perturb(t);
            Tensor x = torch.randn(new long[] {2, c, h, w}, Tensors.options(ScalarType.Double));
            Tensor wc = dense(t.channel()), ws = dense(t.spatial());
            assertThat(wc.size(0)).isEqualTo(c);
            assertThat(ws.size(0)).isEqualTo(n);
            // Y = (I + U_c V_c) X (I + U_s V_s) with X = x as (c, n)
            Tensor expected = wc.matmul(x.reshape(2, c, n)).matmul(ws).reshape(2, c, h, w);
            FlowResult f = t.forward(x);
            assertThat(maxAbs(f.out().sub(expected))).isLessThan(1e-12);
            double ld = n * torch.linalg_slogdet(wc).get1().item_double()
                    + c * torch.linalg_slogdet(ws).get1().item_double();
            assertThat(f.logDet().select(0, 0).item_double()).isCloseTo(ld, within(1e-10));
            assertThat(f.logDet().select(0, 1).item_double()).isCloseTo(ld, within(1e-10));
            // the inverse against the dense inverses
            Tensor back = torch.linalg_inv(wc).matmul(expected.reshape(2, c, n)).matmul(torch.linalg_inv(ws));
            assertThat(maxAbs(t.inverse(expected).out().sub(back.reshape(2, c, h, w)))).isLessThan(1e-10);
            assertThat(maxAbs(back.reshape(2, c, h, w).sub(x))).isLessThan(1e-10);
        }
    }

    @Test
    void meWoodburyMatchesDenseChannelWidthAndHeightMatrices() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(4);
            int c = 3, h = 4, w = 5;
            MeWoodburyTransform t = new MeWoodburyTransform(c, h, w, 2, 3, 2, Init.float64());
            perturb(t);
            Tensor x = torch.randn(new long[] {2, c, h, w}, Tensors.options(ScalarType.Double));
            Tensor wc = dense(t.channel()), ww = dense(t.width()), wh = dense(t.height());
            assertThat(ww.size(0)).isEqualTo(w);
            assertThat(wh.size(0)).isEqualTo(h);
            // channel: (I + U_c V_c) at every pixel; width: each row x[c, i, :] times W_w from the right;
            // height: each column x[c, :, j] times W_h from the right.
            Tensor xc = wc.matmul(x.reshape(2, c, h * w)).reshape(2, c, h, w);
            Tensor xw = xc.matmul(ww);
            Tensor y = xw.transpose(2, 3).matmul(wh).transpose(2, 3);
            FlowResult f = t.forward(x);
            assertThat(maxAbs(f.out().sub(y))).isLessThan(1e-12);
            double ld = (double) h * w * torch.linalg_slogdet(wc).get1().item_double()
                    + (double) c * h * torch.linalg_slogdet(ww).get1().item_double()
                    + (double) c * w * torch.linalg_slogdet(wh).get1().item_double();
            assertThat(f.logDet().select(0, 0).item_double()).isCloseTo(ld, within(1e-10));
            assertThat(maxAbs(t.inverse(y).out().sub(x))).isLessThan(1e-10);
        }
    }

    @Test
    void largeImagesInvertInFloat32AndParameterCountsAreExact() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            torch.manual_seed(5);
            int c = 3, h = 256, w = 256, dc = 8, ds = 16, dh = 16, dw = 12;
            WoodburyTransform wb = new WoodburyTransform(c, h, w, dc, ds, Init.float32());
            MeWoodburyTransform me = new MeWoodburyTransform(c, h, w, dc, dh, dw, Init.float32());
            assertThat(wb.parameterCount()).isEqualTo((long) dc * 2 * c + (long) ds * 2 * h * w);
            assertThat(me.parameterCount()).isEqualTo((long) dc * 2 * c + (long) dh * 2 * h + (long) dw * 2 * w);
            Tensor x = torch.randn(new long[] {1, c, h, w});
            for (woodflow.core.Transform t : new woodflow.core.Transform[] {wb, me}) {
                FlowResult f = t.forward(x);
                assertThat(maxAbs(t.inverse(f.out()).out().sub(x))).isLessThan(1e-4);
            }
        }
    }
}
