package woodflow.model;

import woodflow.core.Init;
import woodflow.core.Module;
import woodflow.core.Transform;
import woodflow.coupling.AdditiveTransform;
import woodflow.coupling.AffineTransform;
import woodflow.coupling.Coupling;
import woodflow.coupling.GlowConditioner;
import woodflow.coupling.MaCowUnit;
import woodflow.coupling.RationalQuadraticSpline;
import woodflow.layers.Conv1x1;
import woodflow.layers.EmergingConv;
import woodflow.layers.PeriodicConv;
import woodflow.layers.MeWoodburyTransform;
import woodflow.layers.Reverse;
import woodflow.layers.WoodburyTransform;

/**
 * Builds the permutation layer and the coupling of a step from a {@link ModelConfig}: the one place that maps the
 * config's names to classes.
 */
public final class Layers {
    private Layers() {}


    public static <M extends Module & Transform> M permutation(ModelConfig cfg, int level, int c, int h, int w,
                                                              Init init) {
        @SuppressWarnings("unchecked")
        M m = (M) switch (cfg.permutation()) {
            case "woodbury" -> new WoodburyTransform(c, h, w, cfg.dC()[level], cfg.dS()[level], init);
            case "me-woodbury" -> new MeWoodburyTransform(c, h, w, cfg.dC()[level], cfg.dH()[level], cfg.dW()[level],
                    init);
            case "conv1x1" -> new Conv1x1(c, false, init);
            case "conv1x1-lu" -> new Conv1x1(c, true, init);
            case "reverse" -> new Reverse(c);
            case "emerging" -> new EmergingConv(c, cfg.kernel(), init);
            case "periodic" -> new PeriodicConv(c, cfg.kernel(), init);
            default -> throw new IllegalArgumentException("unknown permutation '" + cfg.permutation() + "'");
        };
        return m;
    }

    public static <M extends Module & Transform> M coupling(ModelConfig cfg, int level, int c, int h, int w,
                                                           Init init) {
        Coupling.checkChannels(c);
        int half = c / 2;
        @SuppressWarnings("unchecked")
        M m = (M) switch (cfg.coupling()) {
            case "affine" -> new Coupling(new GlowConditioner(half, cfg.hidden(), 2 * half, cfg.logScaleFactor(), init),
                    new AffineTransform());
            case "additive" -> new Coupling(new GlowConditioner(half, cfg.hidden(), half, cfg.logScaleFactor(), init),
                    new AdditiveTransform());
            case "spline" -> {
                RationalQuadraticSpline spline = new RationalQuadraticSpline(cfg.splineBins(), cfg.splineBound());
                yield new Coupling(new GlowConditioner(half, cfg.hidden(), half * spline.parametersPerElement(),
                        cfg.logScaleFactor(), init), spline);
            }
            case "macow" -> new MaCowUnit(c, cfg.hidden(), cfg.kernel(), cfg.logScaleFactor(), init);
            default -> throw new IllegalArgumentException("unknown coupling '" + cfg.coupling() + "'");
        };
        return m;
    }
}
