package woodflow.compare;

import woodflow.core.Choice;
import woodflow.core.Choices;
import woodflow.model.ModelConfig;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The variants of a one-parameter ablation of one method: the method's model from the base config with one
 * hyper-parameter set to each value in turn. Parameters: {@code d}, every latent dimension of the Woodbury layers
 * (d_c, d_s, d_h, d_w; Lu and Huang, 2020) at every level; {@code K}, the flow steps per level; {@code hidden}, the
 * coupling networks' channels.
 */
public final class Ablation {
    /** The hyper-parameter an ablation varies, by the name {@code --param} takes. */
    public enum Parameter implements Choice {
        /** Every latent dimension of the Woodbury layers at every level. */
        D {
            @Override
            ModelConfig apply(ModelConfig m, int v) {
                int[] d = new int[m.levels()];
                Arrays.fill(d, v);
                return m.withLatentDims(d, d.clone(), d.clone(), d.clone());
            }
        },
        /** The flow steps per level ({@code k} and {@code steps} name it too). */
        K {
            @Override
            public String label() {
                return "K";
            }

            @Override
            public List<String> aliases() {
                return List.of("steps");
            }

            @Override
            ModelConfig apply(ModelConfig m, int v) {
                return m.withSteps(v);
            }
        },
        /** The coupling networks' channels. */
        HIDDEN {
            @Override
            ModelConfig apply(ModelConfig m, int v) {
                return m.withHidden(v);
            }
        };

        @Override
        public String toString() {
            return label();
        }

        /** {@code m} with this parameter set to {@code v}. */
        abstract ModelConfig apply(ModelConfig m, int v);
    }

    private Ablation() {}

    /** The parameter of a name ("k" and "steps" are K). */
    public static Parameter parameter(String p) {
        return Choices.parse(Parameter.class, p.strip(), "ablation parameter");
    }

    /** Parses "2,4,8": positive, distinct integers. */
    public static List<Integer> values(String list) {
        List<Integer> out = new ArrayList<>();
        for (String s : list.split(",")) {
            if (s.isBlank()) continue;
            int v;
            try {
                v = Integer.parseInt(s.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--values must be whole numbers separated by commas, got '" + s
                        + "'");
            }
            if (v < 1) throw new IllegalArgumentException("ablation values must be at least 1, got " + v);
            if (out.contains(v)) throw new IllegalArgumentException("value " + v + " is listed twice");
            out.add(v);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no values given: use e.g. --values 2,4,8,16");
        return out;
    }

    /** One variant per value, named METHOD-PARAMVALUE (e.g. woodbury-d8), labelled by the value. */
    public static List<Variant> variants(Methods.Method method, RunConfig base, Parameter p, List<Integer> values) {
        ModelConfig m = method.apply(base.model());
        if (p == Parameter.D && !m.permutation().isWoodbury()) {
            throw new IllegalArgumentException("--param d is the Woodbury latent dimension, but method '"
                    + method + "' has no Woodbury layer: use --method woodbury or me-woodbury");
        }
        List<Variant> out = new ArrayList<>();
        for (int v : values) {
            ModelConfig mv = p.apply(m, v);
            RunConfig cfg = base.withModel(mv);
            String desc = String.format(Locale.ROOT, "%s with %s = %d (ablation)", method, p, v);
            out.add(new Variant(method.label() + "-" + p + v, Integer.toString(v),
                    new RunConfig(desc, cfg.model(), cfg.data(), cfg.train())));
        }
        return out;
    }
}
