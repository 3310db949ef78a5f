package woodflow.contract;

import woodflow.model.Permutation;
import woodflow.model.CouplingType;
import woodflow.core.Init;
import woodflow.coupling.AdditiveTransform;
import woodflow.coupling.AffineTransform;
import woodflow.coupling.Coupling;
import woodflow.coupling.GlowConditioner;
import woodflow.coupling.MaCowUnit;
import woodflow.coupling.RationalQuadraticSpline;
import woodflow.layers.ActNorm;
import woodflow.layers.Conv1x1;
import woodflow.layers.EmergingConv;
import woodflow.layers.PeriodicConv;
import woodflow.layers.MeWoodburyTransform;
import woodflow.layers.Reverse;
import woodflow.layers.Split;
import woodflow.layers.Squeeze;
import woodflow.layers.TopPrior;
import woodflow.layers.WoodburyTransform;
import woodflow.model.FlowStep;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;

import java.util.ArrayList;
import java.util.List;

/**
 * Every layer and model that must obey the transform contract. A new layer is added here, never given a weaker
 * test of its own. Shapes are tiny (batch 2, at most 64 dimensions per sample for a layer, 128 for a model). Each
 * factory takes the {@link Init} (dtype and device) to build in: float64 for the exact checks, float32 for the round
 * trips in the precision models train in.
 */
public final class ContractCases {
    private ContractCases() {}

    public static List<ContractCase> all() {
        List<ContractCase> c = new ArrayList<>();
        c.add(new ContractCase("actnorm", i -> new ActNorm(4, i), 2, 4, 4, 4));
        c.add(new ContractCase("squeeze", i -> new Squeeze(), 2, 2, 4, 4));
        c.add(new ContractCase("reverse", i -> new Reverse(4), 2, 4, 4, 4));
        c.add(new ContractCase("split", i -> new Split(4, i), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-learned", i -> new TopPrior(4, 4, 4, true, i), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-standard", i -> new TopPrior(4, 4, 4, false, i), 2, 4, 4, 4));
        // class-conditional priors (Glow's ycond), for fixed soft labels per sample
        c.add(new ContractCase("split-class-conditional",
                Conditioned.of(3, (i, cond) -> new Split(4, 4, 4, i, cond)), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-class-conditional",
                Conditioned.of(3, (i, cond) -> new TopPrior(4, 4, 4, true, i, cond)), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-standard-class-conditional",
                Conditioned.of(2, (i, cond) -> new TopPrior(4, 4, 4, false, i, cond)), 2, 4, 4, 4));
        c.add(new ContractCase("conv1x1", i -> new Conv1x1(4, false, i), 2, 4, 4, 4));
        c.add(new ContractCase("conv1x1-lu", i -> new Conv1x1(4, true, i), 2, 4, 4, 4));
        c.add(new ContractCase("woodbury", i -> new WoodburyTransform(3, 3, 5, 2, 4, i), 2, 3, 3, 5));
        c.add(new ContractCase("me-woodbury", i -> new MeWoodburyTransform(3, 3, 5, 2, 2, 3, i), 2, 3, 3, 5));
        c.add(new ContractCase("affine-coupling",
                i -> new Coupling(new GlowConditioner(2, 8, 4, 1.0, i), new AffineTransform()), 2, 4, 4, 4));
        c.add(new ContractCase("additive-coupling",
                i -> new Coupling(new GlowConditioner(2, 8, 2, 3.0, i), new AdditiveTransform()), 2, 4, 4, 4));
        c.add(new ContractCase("step-woodbury",
                i -> new FlowStep(tiny("woodbury", 1, 1).withLatentDims(new int[] {2}, new int[] {3}, null, null),
                        0, 4, 4, 4, i), 2, 4, 4, 4));
        c.add(new ContractCase("model-woodbury-glow",
                i -> new MultiScaleFlow(tiny("woodbury", 2, 2), i), 2, 2, 8, 8));
        c.add(new ContractCase("model-woodbury-glow-class-conditional",
                i -> new MultiScaleFlow(tiny("woodbury", 2, 2).withClasses(woodflow.model.Conditioning.CLASS,
                        List.of("a", "b", "c"), 0), i), 2, 2, 8, 8));
        c.add(new ContractCase("model-me-woodbury-glow",
                i -> new MultiScaleFlow(tiny("me-woodbury", 2, 2), i), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-1x1-additive",
                i -> new MultiScaleFlow(tiny("conv1x1-lu", 2, 1).withCoupling(CouplingType.ADDITIVE), i), 2, 2, 8, 8));
        c.add(new ContractCase("emerging", i -> new EmergingConv(4, 3, i), 2, 4, 4, 4));
        c.add(new ContractCase("emerging-5x5-oblong", i -> new EmergingConv(3, 5, i), 2, 3, 3, 6));
        c.add(new ContractCase("periodic", i -> new PeriodicConv(4, 3, i), 2, 4, 4, 4));
        c.add(new ContractCase("periodic-odd-width-wrapped", i -> new PeriodicConv(3, 5, i), 2, 3, 3, 5));
        c.add(new ContractCase("spline-coupling",
                i -> new Coupling(new GlowConditioner(2, 8, 2 * 11, 1.0, i), new RationalQuadraticSpline(4, 2.0)),
                2, 4, 4, 4));
        c.add(new ContractCase("macow-unit", i -> new MaCowUnit(4, 8, 3, 1.0, i), 2, 4, 4, 4));
        c.add(new ContractCase("macow-unit-oblong", i -> new MaCowUnit(2, 6, 3, 1.0, i), 2, 2, 3, 7));
        c.add(new ContractCase("model-glow-emerging",
                i -> new MultiScaleFlow(tiny("emerging", 2, 1), i), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-periodic",
                i -> new MultiScaleFlow(tiny("periodic", 2, 1), i), 2, 2, 8, 8));
        // a spline's inverse solves a quadratic per element, which loses float32 digits where its discriminant is
        // small: the random model's float32 round trip is good to ~3e-4
        c.add(new ContractCase("model-glow-spline",
                i -> new MultiScaleFlow(tiny("conv1x1", 2, 1).withCoupling(CouplingType.SPLINE), i), 1e-3, 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-macow",
                i -> new MultiScaleFlow(tiny("conv1x1", 2, 1).withCoupling(CouplingType.MACOW), i), 2, 2, 8, 8));
        return c;
    }

    /** A tiny 2x8x8 model config (L levels, K steps, 8 coupling channels, latent dims 2 and 3). */
    public static ModelConfig tiny(String permutation, int levels, int steps) {
        int[] dc = new int[levels], ds = new int[levels];
        java.util.Arrays.fill(dc, 2);
        java.util.Arrays.fill(ds, 3);
        return ModelConfig.of(2, 8, 8, levels, steps, 8, Permutation.parse(permutation)).withLatentDims(dc, ds, ds, dc);
    }
}
