package woodflow.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.core.FlowLayer;
import woodflow.core.Init;
import woodflow.coupling.AdditiveTransform;
import woodflow.coupling.AffineTransform;
import woodflow.coupling.Coupling;
import woodflow.coupling.GlowConditioner;
import woodflow.coupling.MaCowUnit;
import woodflow.coupling.RationalQuadraticSpline;

/**
 * The coupling of a flow step: a conditioner network times an element-wise transform (affine, additive,
 * rational-quadratic spline), or a MaCow unit of four masked couplings. Each constant builds its layer, counts the
 * floating-point work of its networks' convolutions, and carries the name configs and the command line use for it.
 */
public enum CouplingType implements Choice {
    /** Glow's affine coupling, with the paper's sigmoid scale (Lu &amp; Huang 2020, appendix A). */
    AFFINE {
        @Override
        FlowLayer build(ModelConfig cfg, int half, Init init) {
            return new Coupling(new GlowConditioner(half, cfg.hidden(), 2 * half, cfg.logScaleFactor(), init),
                    new AffineTransform());
        }

        @Override
        public double flops(ModelConfig m, double c, double hw) {
            double half = c / 2, hid = m.hidden();
            return Flops.conv(hw, half, hid, 3) + Flops.conv(hw, hid, hid, 1) + Flops.conv(hw, hid, c, 3);
        }
    },
    /** Additive coupling (NICE): a shift only, log-det 0. */
    ADDITIVE {
        @Override
        FlowLayer build(ModelConfig cfg, int half, Init init) {
            return new Coupling(new GlowConditioner(half, cfg.hidden(), half, cfg.logScaleFactor(), init),
                    new AdditiveTransform());
        }

        @Override
        public double flops(ModelConfig m, double c, double hw) {
            double half = c / 2, hid = m.hidden();
            return Flops.conv(hw, half, hid, 3) + Flops.conv(hw, hid, hid, 1) + Flops.conv(hw, hid, half, 3);
        }
    },
    /** Monotone rational-quadratic spline coupling (Durkan et al. 2019). */
    SPLINE {
        @Override
        FlowLayer build(ModelConfig cfg, int half, Init init) {
            RationalQuadraticSpline spline = new RationalQuadraticSpline(cfg.splineBins(), cfg.splineBound());
            return new Coupling(new GlowConditioner(half, cfg.hidden(), half * spline.parametersPerElement(),
                    cfg.logScaleFactor(), init), spline);
        }

        @Override
        public double flops(ModelConfig m, double c, double hw) {
            double half = c / 2, hid = m.hidden();
            return Flops.conv(hw, half, hid, 3) + Flops.conv(hw, hid, hid, 1)
                    + Flops.conv(hw, hid, half * (3 * m.splineBins() - 1), 3);
        }
    },
    /** MaCow unit (Ma et al. 2019): four masked-convolution affine couplings, one per direction. */
    MACOW {
        @Override
        FlowLayer build(ModelConfig cfg, int half, Init init) {
            return new MaCowUnit(2 * half, cfg.hidden(), cfg.kernel(), cfg.logScaleFactor(), init);
        }

        @Override
        public double flops(ModelConfig m, double c, double hw) {
            double hid = m.hidden();
            return 4 * (Flops.conv(hw, c, hid, 3) + Flops.conv(hw, hid, 2 * c, 3));
        }
    };

    @Override
    public String toString() {
        return label();
    }

    /** The coupling named {@code name} (any case); an unknown name is an error that lists the known ones. */
    @JsonCreator
    public static CouplingType parse(String name) {
        return Choices.parse(CouplingType.class, name, "coupling");
    }

    /** The coupling for an input of {@code c} channels (split into two halves of {@code c / 2}). */
    public FlowLayer create(ModelConfig cfg, int c, Init init) {
        Coupling.checkChannels(c);
        return build(cfg, c / 2, init);
    }

    abstract FlowLayer build(ModelConfig cfg, int half, Init init);

    /** Floating-point operations of the coupling's network convolutions for one image of {@code c x hw}. */
    public abstract double flops(ModelConfig m, double c, double hw);
}
