package woodflow.compare;

import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.model.CouplingType;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The methods a comparison can train, as names for the permutation layer and the coupling of every flow step
 * (each builds its own layer: {@link Permutation}, {@link CouplingType}). Everything else of the model (shape, levels,
 * steps, coupling channels, latent dimensions) comes from the base config, so methods differ only in what their
 * name says. The names follow the paper's tables (Lu and Huang, 2020): Woodbury and ME-Woodbury against Glow's
 * 1x1 convolution (plain and LU), emerging and periodic convolutions, and the 1x1 convolution with a neural-spline
 * or MaCow coupling.
 */
public final class Methods {
    /** A method: its permutation layer, its coupling, and the suffix of its presets (cifar10-SUFFIX). */
    public enum Method implements Choice {
        WOODBURY(Permutation.WOODBURY, CouplingType.AFFINE, "woodbury"),
        ME_WOODBURY(Permutation.ME_WOODBURY, CouplingType.AFFINE, "me-woodbury"),
        /** Glow's own layer, the 1x1 convolution ({@code glow} names it too). */
        GLOW_1X1(Permutation.CONV1X1, CouplingType.AFFINE, "glow") {
            @Override
            public List<String> aliases() {
                return List.of("glow");
            }
        },
        GLOW_LU(Permutation.CONV1X1_LU, CouplingType.AFFINE, "glow-lu"),
        EMERGING(Permutation.EMERGING, CouplingType.AFFINE, "emerging"),
        PERIODIC(Permutation.PERIODIC, CouplingType.AFFINE, "periodic"),
        SPLINE(Permutation.CONV1X1, CouplingType.SPLINE, "spline"),
        MACOW(Permutation.CONV1X1, CouplingType.MACOW, "macow"),
        ADDITIVE(Permutation.CONV1X1, CouplingType.ADDITIVE, "additive");

        private final Permutation permutation;
        private final CouplingType coupling;
        private final String preset;

        Method(Permutation permutation, CouplingType coupling, String preset) {
            this.permutation = permutation;
            this.coupling = coupling;
            this.preset = preset;
        }

        public Permutation permutation() {
            return permutation;
        }

        public CouplingType coupling() {
            return coupling;
        }

        /** The suffix of this method's presets: {@code DATA-SUFFIX}, e.g. cifar10-glow. */
        public String preset() {
            return preset;
        }

        @Override
        public String toString() {
            return label();
        }

        /** The base model with this method's permutation and coupling. */
        public ModelConfig apply(ModelConfig base) {
            return base.withPermutation(permutation).withCoupling(coupling);
        }
    }

    private Methods() {}

    /** Every method name, in the order of the paper's tables. */
    public static List<String> names() {
        return Arrays.stream(Method.values()).map(Method::label).toList();
    }

    /** The method of a name (case-insensitive; {@code glow} is {@code glow-1x1}). */
    public static Method of(String name) {
        return Choices.parse(Method.class, name.strip(), "method");
    }

    /** A comma-separated list of method names, each at most once. */
    public static List<Method> parse(String list) {
        List<Method> out = new ArrayList<>();
        for (String part : list.split(",")) {
            if (part.isBlank()) continue;
            Method m = of(part);
            if (out.contains(m)) throw new IllegalArgumentException("method '" + m + "' is listed twice");
            out.add(m);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no methods given: use e.g. --methods woodbury,glow-1x1");
        return out;
    }

    /** One variant per method: the base config with the method's permutation and coupling. */
    public static List<Variant> variants(List<Method> methods, RunConfig base) {
        List<Variant> out = new ArrayList<>();
        for (Method m : methods) out.add(variant(m, base, m.apply(base.model())));
        return out;
    }

    /**
     * One variant per method with the model of the method's own preset {@code DATA-SUFFIX} (e.g. cifar10-spline:
     * the paper's 256 coupling channels for the spline baseline, 384 for MaCow) and the base's data and training
     * settings, so the runs still share data, batch, optimiser and seeds.
     */
    public static List<Variant> variantsFromPresets(List<Method> methods, RunConfig base, String data) {
        List<Variant> out = new ArrayList<>();
        for (Method m : methods) {
            String name = data + "-" + m.preset();
            if (!woodflow.train.Presets.names().contains(name)) {
                throw new IllegalArgumentException("--paper-sizes needs the preset " + name + " for method "
                        + m + ", and there is none: drop --paper-sizes to use the base's sizes for every "
                        + "method, or leave " + m + " out");
            }
            ModelConfig pm = woodflow.train.Presets.load(name).model();
            if (pm.permutation() != m.permutation() || pm.coupling() != m.coupling()) {
                throw new IllegalStateException("preset " + name + " has " + pm.permutation() + " + " + pm.coupling()
                        + ", not the layers of method " + m);
            }
            out.add(variant(m, base, pm));
        }
        return out;
    }

    private static Variant variant(Method m, RunConfig base, ModelConfig model) {
        String desc = m + " (" + m.permutation() + " + " + m.coupling() + " coupling) in a comparison";
        return new Variant(m.label(), m.label(), new RunConfig(desc, model, base.data(), base.train()));
    }
}
