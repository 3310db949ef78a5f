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
 * test of its own. Shapes are tiny (batch 2, at most 64 dimensions per sample for a layer, 128 for a model).
 */
public final class ContractCases {
    private ContractCases() {}

    static final Init F64 = Init.float64();

    public static List<ContractCase> all() {
        List<ContractCase> c = new ArrayList<>();
        c.add(new ContractCase("actnorm", () -> new ActNorm(4, F64), 2, 4, 4, 4));
        c.add(new ContractCase("squeeze", Squeeze::new, 2, 2, 4, 4));
        c.add(new ContractCase("reverse", () -> new Reverse(4), 2, 4, 4, 4));
        c.add(new ContractCase("split", () -> new Split(4, F64), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-learned", () -> new TopPrior(4, 4, 4, true, F64), 2, 4, 4, 4));
        c.add(new ContractCase("top-prior-standard", () -> new TopPrior(4, 4, 4, false, F64), 2, 4, 4, 4));
        c.add(new ContractCase("conv1x1", () -> new Conv1x1(4, false, F64), 2, 4, 4, 4));
        c.add(new ContractCase("conv1x1-lu", () -> new Conv1x1(4, true, F64), 2, 4, 4, 4));
        c.add(new ContractCase("woodbury", () -> new WoodburyTransform(3, 3, 5, 2, 4, F64), 2, 3, 3, 5));
        c.add(new ContractCase("me-woodbury", () -> new MeWoodburyTransform(3, 3, 5, 2, 2, 3, F64), 2, 3, 3, 5));
        c.add(new ContractCase("affine-coupling",
                () -> new Coupling(new GlowConditioner(2, 8, 4, 1.0, F64), new AffineTransform()), 2, 4, 4, 4));
        c.add(new ContractCase("additive-coupling",
                () -> new Coupling(new GlowConditioner(2, 8, 2, 3.0, F64), new AdditiveTransform()), 2, 4, 4, 4));
        c.add(new ContractCase("step-woodbury",
                () -> new FlowStep(tiny("woodbury", 1, 1).withLatentDims(new int[] {2}, new int[] {3}, null, null),
                        0, 4, 4, 4, F64), 2, 4, 4, 4));
        c.add(new ContractCase("model-woodbury-glow",
                () -> new MultiScaleFlow(tiny("woodbury", 2, 2), F64), 2, 2, 8, 8));
        c.add(new ContractCase("model-me-woodbury-glow",
                () -> new MultiScaleFlow(tiny("me-woodbury", 2, 2), F64), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-1x1-additive",
                () -> new MultiScaleFlow(tiny("conv1x1-lu", 2, 1).withCoupling(CouplingType.ADDITIVE), F64), 2, 2, 8, 8));
        c.add(new ContractCase("emerging", () -> new EmergingConv(4, 3, F64), 2, 4, 4, 4));
        c.add(new ContractCase("emerging-5x5-oblong", () -> new EmergingConv(3, 5, F64), 2, 3, 3, 6));
        c.add(new ContractCase("periodic", () -> new PeriodicConv(4, 3, F64), 2, 4, 4, 4));
        c.add(new ContractCase("periodic-odd-width-wrapped", () -> new PeriodicConv(3, 5, F64), 2, 3, 3, 5));
        c.add(new ContractCase("spline-coupling",
                () -> new Coupling(new GlowConditioner(2, 8, 2 * 11, 1.0, F64), new RationalQuadraticSpline(4, 2.0)),
                2, 4, 4, 4));
        c.add(new ContractCase("macow-unit", () -> new MaCowUnit(4, 8, 3, 1.0, F64), 2, 4, 4, 4));
        c.add(new ContractCase("macow-unit-oblong", () -> new MaCowUnit(2, 6, 3, 1.0, F64), 2, 2, 3, 7));
        c.add(new ContractCase("model-glow-emerging",
                () -> new MultiScaleFlow(tiny("emerging", 2, 1), F64), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-periodic",
                () -> new MultiScaleFlow(tiny("periodic", 2, 1), F64), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-spline",
                () -> new MultiScaleFlow(tiny("conv1x1", 2, 1).withCoupling(CouplingType.SPLINE), F64), 2, 2, 8, 8));
        c.add(new ContractCase("model-glow-macow",
                () -> new MultiScaleFlow(tiny("conv1x1", 2, 1).withCoupling(CouplingType.MACOW), F64), 2, 2, 8, 8));
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
