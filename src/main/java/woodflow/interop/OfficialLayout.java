package woodflow.interop;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;
import woodflow.model.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The state_dict layout of the paper's official code (github yolu1055/WoodburyTransformations: {@code WoodburyGlow}
 * of models.py, modules.py, WoodburyTrans.py), rewritten to the layout of the paper-style class
 * ({@link PaperStateDict}) so that one mapping serves both:
 * <pre>
 *   flow.layers.i        a flat list per level: squeeze, K steps, split (not after the last level), so
 *                        i = l (K + 2) + 1 + k is step k of level l and l (K + 2) + K + 1 its split
 *   step:  actnorm.{bias,logs,initialized}          -> levels.l.k.0.{b,s,ready}
 *          conv.{CTrans,STrans,WTrans,HTrans}.{U,V}  -> levels.l.k.1.{ch,sp,wt,ht}.{U,V}    (their "eye" is dropped)
 *          affine.f.{0,2}.weight, .actnorm.*         -> levels.l.k.2.net.{0,2}.conv.weight, .norm.*
 *          affine.f.4.{weight,bias,newbias,logs}     -> levels.l.k.2.net.4.conv.{weight,bias}, .logs
 *   split: conv.{weight,bias,newbias,logs}           -> priors.l.conv.{weight,bias}, .logs
 *   latent_mean, latent_logs                         -> top_mean, top_logs
 * </pre>
 * Its Conv2dZeros computes {@code (conv(x) + bias + newbias) * exp(logs * f)} with {@code logs} of shape (C, 1, 1):
 * the two biases are summed (both add the same per-channel constant) and logs takes the shape (1, C, 1, 1). A
 * {@code module.} prefix (a model saved inside DataParallel) is removed.
 */
final class OfficialLayout {
    private OfficialLayout() {}

    private static final Pattern LAYER = Pattern.compile("flow\\.layers\\.(\\d+)\\.(.+)");
    private static final Pattern STEP = Pattern.compile(
            "actnorm\\.(bias|logs|initialized)|conv\\.(CTrans|STrans|WTrans|HTrans)\\.(U|V|eye)"
                    + "|affine\\.f\\.([024])\\.(weight|bias|newbias|logs"
                    + "|actnorm\\.bias|actnorm\\.logs|actnorm\\.initialized)");
    private static final Pattern SPLIT = Pattern.compile("conv\\.(weight|bias|newbias|logs)");
    private static final Map<String, String> ACTNORM = Map.of("bias", "b", "logs", "s", "initialized", "ready");
    private static final Map<String, String> FACTOR = Map.of("CTrans", "ch", "STrans", "sp", "WTrans", "wt",
            "HTrans", "ht");

    private static final Pattern PAPER_STEP = Pattern.compile("levels\\.(\\d+)\\.(\\d+)\\.(.+)");
    private static final Pattern PAPER_PRIOR = Pattern.compile("priors\\.(\\d+)\\.(conv\\.weight|conv\\.bias|logs)");
    private static final Map<String, String> OFFICIAL_ACTNORM =
            Map.of("b", "bias", "s", "logs", "ready", "initialized");
    private static final Map<String, String> OFFICIAL_FACTOR = Map.of("ch", "CTrans", "sp", "STrans", "wt", "WTrans",
            "ht", "HTrans");

    /**
     * The paper-style state_dict ({@link PaperStateDict#toPaper}) in the official code's layout, for
     * {@code WoodburyGlow.load_state_dict(..., strict=True)}: the inverse of {@link #toPaperStyle}, with
     * {@code newbias} zero, each factor's constant {@code eye} and {@code initialized} as a 0-dim uint8.
     */
    static Map<String, Tensor> fromPaperStyle(Map<String, Tensor> paper, ModelConfig cfg) {
        int k = cfg.steps();
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : paper.entrySet()) {
                String key = e.getKey();
                Tensor t = e.getValue();
                Matcher m;
                if (key.equals("top_mean") || key.equals("top_logs")) {
                    out.put("latent_" + key.substring(4), t);
                } else if ((m = PAPER_PRIOR.matcher(key)).matches()) {
                    String p = "flow.layers." + (Integer.parseInt(m.group(1)) * (k + 2) + k + 1) + ".conv.";
                    zeroConv(out, p, m.group(2).replace("conv.", ""), t);
                } else if ((m = PAPER_STEP.matcher(key)).matches()) {
                    String p = "flow.layers." + (Integer.parseInt(m.group(1)) * (k + 2) + 1
                            + Integer.parseInt(m.group(2))) + ".";
                    String[] r = m.group(3).split("\\.");
                    if (r[0].equals("0")) {
                        out.put(p + "actnorm." + OFFICIAL_ACTNORM.get(r[1]), initialized(r[1], t));
                    } else if (r[0].equals("1")) {
                        String f = p + "conv." + OFFICIAL_FACTOR.get(r[1]) + ".";
                        out.put(f + r[2], t);
                        if (r[2].equals("V")) out.put(f + "eye", Tensors.keep(torch.eye(t.size(0))));
                    } else if (r[2].equals("4")) { // 2.net.4.conv.{weight,bias} or 2.net.4.logs
                        zeroConv(out, p + "affine.f.4.", r.length == 4 ? "logs" : r[4], t);
                    } else if (r[3].equals("conv")) { // 2.net.{0,2}.conv.weight
                        out.put(p + "affine.f." + r[2] + ".weight", t);
                    } else { // 2.net.{0,2}.norm.{b,s,ready}
                        out.put(p + "affine.f." + r[2] + ".actnorm." + OFFICIAL_ACTNORM.get(r[4]),
                                initialized(r[4], t));
                    }
                } else {
                    throw new IllegalArgumentException("no place in the official layout for " + key);
                }
            }
        }
        return out;
    }

    private static Tensor initialized(String name, Tensor t) {
        return name.equals("ready") ? Tensors.keep(t.to(torch.ScalarType.Byte)) : t;
    }

    /** A Conv2dZeros: weight, bias, newbias (0) and logs as (C, 1, 1). */
    private static void zeroConv(Map<String, Tensor> out, String p, String what, Tensor t) {
        switch (what) {
            case "weight" -> out.put(p + "weight", t);
            case "bias" -> {
                out.put(p + "bias", t);
                out.put(p + "newbias", Tensors.keep(torch.zeros(t.size(0), 1, 1)));
            }
            default -> out.put(p + "logs", Tensors.keep(t.reshape(-1, 1, 1).contiguous()));
        }
    }

    /** Whether a state_dict is in the official code's layout. */
    static boolean matches(Map<String, Tensor> state) {
        return state.keySet().stream()
                .anyMatch(k -> k.startsWith("flow.layers.") || k.startsWith("module.flow.layers."));
    }

    /** The same tensors under the paper-style class's names; keys it cannot place are kept as they are. */
    static Map<String, Tensor> toPaperStyle(Map<String, Tensor> official, ModelConfig cfg) {
        int k = cfg.steps(), levels = cfg.levels();
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, List<Tensor>> biases = new LinkedHashMap<>(); // conv bias + newbias, summed at the end
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : official.entrySet()) {
                String key = e.getKey().startsWith("module.") ? e.getKey().substring(7) : e.getKey();
                Tensor t = e.getValue();
                if (key.equals("latent_mean") || key.equals("latent_logs")) {
                    out.put("top_" + key.substring(7), t);
                    continue;
                }
                Matcher m = LAYER.matcher(key);
                String name = null;
                if (m.matches()) {
                    int i = Integer.parseInt(m.group(1));
                    int l = i / (k + 2), j = i % (k + 2);
                    String rest = m.group(2);
                    Matcher r;
                    if (l < levels && j >= 1 && j <= k && (r = STEP.matcher(rest)).matches()) {
                        String p = "levels." + l + "." + (j - 1) + ".";
                        if (r.group(1) != null) {
                            name = p + "0." + ACTNORM.get(r.group(1));
                        } else if (r.group(2) != null) {
                            if (r.group(3).equals("eye")) continue; // the constant identity of the d x d capacitance
                            name = p + "1." + FACTOR.get(r.group(2)) + "." + r.group(3);
                        } else {
                            String layer = r.group(4), what = r.group(5);
                            if (what.startsWith("actnorm.")) {
                                name = p + "2.net." + layer + ".norm." + ACTNORM.get(what.substring(8));
                            } else if (what.equals("weight")) {
                                name = p + "2.net." + layer + ".conv.weight";
                            } else if (layer.equals("4") && what.equals("logs")) {
                                name = p + "2.net.4.logs";
                                t = t.reshape(1, -1, 1, 1);
                            } else if (layer.equals("4")) {
                                biases.computeIfAbsent(p + "2.net.4.conv.bias", x -> new ArrayList<>()).add(t);
                                continue;
                            }
                        }
                    } else if (l < levels - 1 && j == k + 1 && (r = SPLIT.matcher(rest)).matches()) {
                        String p = "priors." + l + ".";
                        switch (r.group(1)) {
                            case "weight" -> name = p + "conv.weight";
                            case "logs" -> {
                                name = p + "logs";
                                t = t.reshape(1, -1, 1, 1);
                            }
                            default -> {
                                biases.computeIfAbsent(p + "conv.bias", x -> new ArrayList<>()).add(t);
                                continue;
                            }
                        }
                    }
                }
                out.put(name != null ? name : e.getKey(), t);
            }
            biases.forEach((name, parts) -> {
                Tensor sum = parts.get(0).reshape(-1);
                for (int i = 1; i < parts.size(); i++) sum = sum.add(parts.get(i).reshape(-1));
                out.put(name, Tensors.keep(sum));
            });
        }
        return out;
    }
}
