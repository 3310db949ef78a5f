package woodflow.compare;

import woodflow.model.CouplingType;
import woodflow.model.ModelConfig;
import woodflow.model.Permutation;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
    public record Method(String name, Permutation permutation, CouplingType coupling, String preset) {
        /** The base model with this method's permutation and coupling. */
        public ModelConfig apply(ModelConfig base) {
            return base.withPermutation(permutation).withCoupling(coupling);
        }
    }

    private static final Map<String, Method> KNOWN = new LinkedHashMap<>();

    static {
        add("woodbury", Permutation.WOODBURY, CouplingType.AFFINE, "woodbury");
        add("me-woodbury", Permutation.ME_WOODBURY, CouplingType.AFFINE, "me-woodbury");
        add("glow-1x1", Permutation.CONV1X1, CouplingType.AFFINE, "glow");
        add("glow-lu", Permutation.CONV1X1_LU, CouplingType.AFFINE, "glow-lu");
        add("emerging", Permutation.EMERGING, CouplingType.AFFINE, "emerging");
        add("periodic", Permutation.PERIODIC, CouplingType.AFFINE, "periodic");
        add("spline", Permutation.CONV1X1, CouplingType.SPLINE, "spline");
        add("macow", Permutation.CONV1X1, CouplingType.MACOW, "macow");
        add("additive", Permutation.CONV1X1, CouplingType.ADDITIVE, "additive");
    }

    private Methods() {}

    private static void add(String name, Permutation permutation, CouplingType coupling, String preset) {
        KNOWN.put(name, new Method(name, permutation, coupling, preset));
    }

    /** Every method name, in the order of the paper's tables. */
    public static List<String> names() {
        return List.copyOf(KNOWN.keySet());
    }

    /** Other names of methods: Glow's own layer is the 1x1 convolution. */
    private static final Map<String, String> ALIASES = Map.of("glow", "glow-1x1");

    /** The method of a name (case-insensitive; {@code glow} is {@code glow-1x1}). */
    public static Method of(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        Method m = KNOWN.get(ALIASES.getOrDefault(n, n));
        if (m == null) {
            List<String> near = woodflow.core.Choices.closest(n, names());
            throw new IllegalArgumentException("unknown method '" + name + "': use one of " + String.join(", ",
                    names()) + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near) + "?"));
        }
        return m;
    }

    /** A comma-separated list of method names, each at most once. */
    public static List<Method> parse(String list) {
        List<Method> out = new ArrayList<>();
        for (String part : list.split(",")) {
            if (part.isBlank()) continue;
            Method m = of(part);
            if (out.contains(m)) throw new IllegalArgumentException("method '" + m.name() + "' is listed twice");
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
                        + m.name() + ", and there is none: drop --paper-sizes to use the base's sizes for every "
                        + "method, or leave " + m.name() + " out");
            }
            ModelConfig pm = woodflow.train.Presets.load(name).model();
            if (pm.permutation() != m.permutation() || pm.coupling() != m.coupling()) {
                throw new IllegalStateException("preset " + name + " has " + pm.permutation() + " + " + pm.coupling()
                        + ", not the layers of method " + m.name());
            }
            out.add(variant(m, base, pm));
        }
        return out;
    }

    private static Variant variant(Method m, RunConfig base, ModelConfig model) {
        String desc = m.name() + " (" + m.permutation() + " + " + m.coupling() + " coupling) in a comparison";
        return new Variant(m.name(), m.name(), new RunConfig(desc, model, base.data(), base.train()));
    }
}
