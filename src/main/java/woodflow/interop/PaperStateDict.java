package woodflow.interop;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import woodflow.core.Tensors;
import woodflow.model.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static woodflow.core.Tensors.s;

/**
 * The state_dict of the paper's PyTorch model (Lu &amp; Huang's Woodbury-Glow, as {@code ../shared/yardstick/
 * torch_glow.py} builds it after github yolu1055/WoodburyTransformations) and woodflow's names, both ways (the
 * official code's own layout is read too, through {@link OfficialLayout}):
 * <pre>
 *   paper                                 woodflow
 *   levels.L.K.0.{b,s,ready}              levelL.stepK.actnorm.{bias,logs,initialised}
 *   levels.L.K.1.{ch,sp,wt,ht}.{U,V}      levelL.stepK.permutation.{channel,spatial,width,height}.{U,V}
 *   levels.L.K.2.net.0.conv.weight        levelL.stepK.coupling.net.conv1          (2 -> conv2)
 *   levels.L.K.2.net.0.norm.{b,s,ready}   levelL.stepK.coupling.net.norm1.*        (2 -> norm2)
 *   levels.L.K.2.net.4.conv.{weight,bias} levelL.stepK.coupling.net.out.{weight,bias}
 *   levels.L.K.2.net.4.logs               levelL.stepK.coupling.net.out.logs       (Conv2dZeros scale, see below)
 *   priors.L.conv.{weight,bias}, .logs    levelL.split.prior.{weight,bias,logs}    (the split prior)
 *   top_mean, top_logs                    top.mean, top.logs
 *   dequantizer.*                         dequantizer.*        (a variational dequantiser: woodflow's own names)
 * </pre>
 * ActNorm's {@code ready} is a 0-dim int64 there and a float (1) here. A Conv2dZeros multiplies its output by
 * {@code exp(logs * f)}: the paper's code has f = 1 in couplings and split priors; woodflow's split prior has f = 1
 * and its couplings the config's {@code logscale_factor}, so {@code logs} is rescaled by {@code f_paper / f_woodflow}
 * where the two differ, which leaves every output unchanged.
 */
public final class PaperStateDict {
    private PaperStateDict() {}

    private static final Pattern ACTNORM = Pattern.compile("levels\\.(\\d+)\\.(\\d+)\\.0\\.(b|s|ready)");
    private static final Pattern FACTOR = Pattern.compile("levels\\.(\\d+)\\.(\\d+)\\.1\\.(ch|sp|wt|ht)\\.(U|V)");
    private static final Pattern HIDDEN = Pattern.compile(
            "levels\\.(\\d+)\\.(\\d+)\\.2\\.net\\.(0|2)\\.(conv\\.weight|norm\\.b|norm\\.s|norm\\.ready)");
    private static final Pattern OUT =
            Pattern.compile("levels\\.(\\d+)\\.(\\d+)\\.2\\.net\\.4\\.(conv\\.weight|conv\\.bias|logs)");
    private static final Pattern PRIOR = Pattern.compile("priors\\.(\\d+)\\.(conv\\.weight|conv\\.bias|logs)");
    private static final Pattern W_PRIOR = Pattern.compile("level(\\d+)\\.split\\.prior\\.(weight|bias|logs)");
    private static final Pattern W_STEP = Pattern.compile("level(\\d+)\\.step(\\d+)\\.(.+)");
    private static final Pattern W_ACTNORM = Pattern.compile("actnorm\\.(bias|logs|initialised)");
    private static final Pattern W_FACTOR = Pattern.compile("permutation\\.(channel|spatial|width|height)\\.(U|V)");
    private static final Pattern W_CONV = Pattern.compile("coupling\\.net\\.conv([12])");
    private static final Pattern W_NORM = Pattern.compile("coupling\\.net\\.norm([12])\\.(bias|logs|initialised)");
    private static final Pattern W_OUT = Pattern.compile("coupling\\.net\\.out\\.(weight|bias|logs)");
    private static final Map<String, String> PAPER_ACTNORM = Map.of("bias", "b", "logs", "s", "initialised", "ready");
    private static final Map<String, String> PAPER_FACTOR =
            Map.of("channel", "ch", "spatial", "sp", "width", "wt", "height", "ht");
    private static final Map<String, String> ACTNORM_NAMES = Map.of("b", "bias", "s", "logs", "ready", "initialised");
    private static final Map<String, String> FACTOR_NAMES =
            Map.of("ch", "channel", "sp", "spatial", "wt", "width", "ht", "height");

    /** woodflow's name of a paper state_dict key, or null when it has none. */
    public static String woodflowName(String key) {
        Matcher m;
        if (key.equals("top_mean")) return "top.mean";
        if (key.equals("top_logs")) return "top.logs";
        if ((m = PRIOR.matcher(key)).matches()) {
            return "level" + m.group(1) + ".split.prior." + m.group(2).replace("conv.", "");
        }
        if ((m = ACTNORM.matcher(key)).matches()) {
            return step(m) + "actnorm." + ACTNORM_NAMES.get(m.group(3));
        }
        if ((m = FACTOR.matcher(key)).matches()) {
            return step(m) + "permutation." + FACTOR_NAMES.get(m.group(3)) + "." + m.group(4);
        }
        if ((m = HIDDEN.matcher(key)).matches()) {
            String n = m.group(3).equals("0") ? "1" : "2";
            String p = m.group(4);
            if (p.equals("conv.weight")) return step(m) + "coupling.net.conv" + n;
            return step(m) + "coupling.net.norm" + n + "." + ACTNORM_NAMES.get(p.substring(5));
        }
        if ((m = OUT.matcher(key)).matches()) {
            return step(m) + "coupling.net.out." + m.group(3).replace("conv.", "");
        }
        return null;
    }

    private static String step(Matcher m) {
        return "level" + m.group(1) + ".step" + m.group(2) + ".";
    }

    /** The paper's key of a woodflow name (the inverse of {@link #woodflowName}), or null when it has none. */
    public static String paperName(String name) {
        Matcher m;
        if (name.equals("top.mean")) return "top_mean";
        if (name.equals("top.logs")) return "top_logs";
        if ((m = W_PRIOR.matcher(name)).matches()) {
            return "priors." + m.group(1) + "." + (m.group(2).equals("logs") ? "logs" : "conv." + m.group(2));
        }
        m = W_STEP.matcher(name);
        if (!m.matches()) return null;
        String p = "levels." + m.group(1) + "." + m.group(2) + ".";
        String rest = m.group(3);
        Matcher r;
        if ((r = W_ACTNORM.matcher(rest)).matches()) return p + "0." + PAPER_ACTNORM.get(r.group(1));
        if ((r = W_FACTOR.matcher(rest)).matches()) return p + "1." + PAPER_FACTOR.get(r.group(1)) + "." + r.group(2);
        if ((r = W_CONV.matcher(rest)).matches()) {
            return p + "2.net." + (r.group(1).equals("1") ? "0" : "2") + ".conv.weight";
        }
        if ((r = W_NORM.matcher(rest)).matches()) {
            return p + "2.net." + (r.group(1).equals("1") ? "0" : "2") + ".norm." + PAPER_ACTNORM.get(r.group(2));
        }
        if ((r = W_OUT.matcher(rest)).matches()) {
            return p + "2.net.4." + (r.group(1).equals("logs") ? "logs" : "conv." + r.group(1));
        }
        return null;
    }

    /**
     * The paper's state_dict under woodflow's names, as float32, for a model of {@code cfg}; {@code paperFactor} is
     * the Conv2dZeros log-scale factor of the code that wrote it (1 for the paper's). Throws, naming every key it
     * cannot map.
     */
    public static Map<String, Tensor> toWoodflow(Map<String, Tensor> paper, ModelConfig cfg, double paperFactor) {
        Map<String, Tensor> dequantizer = dequantizerPart(paper);
        paper = withoutDequantizer(paper);
        if (OfficialLayout.matches(paper)) paper = OfficialLayout.toPaperStyle(paper, cfg);
        Map<String, Tensor> out = new LinkedHashMap<>(dequantizer);
        List<String> unmapped = new ArrayList<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : paper.entrySet()) {
                String name = woodflowName(e.getKey());
                if (name == null) {
                    unmapped.add(e.getKey() + " " + Tensors.shapeString(e.getValue()));
                    continue;
                }
                Tensor t = e.getValue().to(ScalarType.Float);
                if (name.endsWith(".initialised")) t = t.reshape(1);
                if (name.endsWith(".out.logs") && cfg.logScaleFactor() != paperFactor) {
                    t = t.mul(s(paperFactor / cfg.logScaleFactor()));
                } else if (name.endsWith(".prior.logs") && paperFactor != 1.0) {
                    t = t.mul(s(paperFactor)); // woodflow's split prior has factor 1
                }
                out.put(name, Tensors.keep(t.contiguous()));
            }
        }
        if (!unmapped.isEmpty()) {
            throw new IllegalArgumentException("cannot map " + unmapped.size() + " parameter(s) of the paper's model "
                    + "to woodflow: " + String.join(", ", unmapped.subList(0, Math.min(12, unmapped.size())))
                    + (unmapped.size() > 12 ? ", ..." : "") + " (woodflow maps the paper's Woodbury/ME-Woodbury Glow: "
                    + "the paper-style class's levels.L.K.{0 actnorm, 1 woodbury, 2 coupling}, priors.L, top_mean, "
                    + "top_logs, or the official code's flow.layers.I.{actnorm, conv, affine}, latent_mean, "
                    + "latent_logs, with L levels of K steps as the config says)");
        }
        return out;
    }

    /**
     * woodflow's state under the paper's names, with {@code ready} as a 0-dim int64, for
     * {@code Glow.load_state_dict(..., strict=True)} (with {@code official}, in the official code's layout for its
     * {@code WoodburyGlow}). Throws naming the woodflow parameters the paper's model does not
     * have, and the settings it cannot express.
     */
    public static Map<String, Tensor> toPaper(Map<String, Tensor> state, ModelConfig cfg, boolean official) {
        Map<String, Tensor> paper = toPaper(withoutDequantizer(state), cfg);
        Map<String, Tensor> out = new LinkedHashMap<>(official ? OfficialLayout.fromPaperStyle(paper, cfg) : paper);
        out.putAll(dequantizerPart(state));
        return out;
    }

    /**
     * The prefix of a variational dequantiser's tensors ({@code model.VariationalDequantizer}), in woodflow's state
     * and in an exported state_dict alike: the paper's model has no dequantiser, so its tensors keep woodflow's names
     * under this prefix, and a paper-style class loads the rest with {@code strict=True} once they are filtered out.
     */
    public static final String DEQUANTIZER = "dequantizer.";

    /** The dequantiser's tensors of a state (woodflow's or an exported one), in order. */
    public static Map<String, Tensor> dequantizerPart(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (k.startsWith(DEQUANTIZER)) out.put(k, v);
        });
        return out;
    }

    private static Map<String, Tensor> withoutDequantizer(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (!k.startsWith(DEQUANTIZER)) out.put(k, v);
        });
        return out;
    }

    public static Map<String, Tensor> toPaper(Map<String, Tensor> state, ModelConfig cfg) {
        List<String> problems = new ArrayList<>();
        if (!cfg.permutation().isWoodbury()) {
            problems.add("permutation '" + cfg.permutation() + "' (the paper's model has woodbury and me-woodbury)");
        }
        if (cfg.coupling() != woodflow.model.CouplingType.AFFINE) {
            problems.add("coupling '" + cfg.coupling() + "' (the paper's model has the affine coupling)");
        }
        if (!cfg.learnTop()) problems.add("learn_top: false (the paper's model learns the top prior)");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the paper's model class cannot hold this model: "
                    + String.join("; ", problems));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<String> unmapped = new ArrayList<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (var e : state.entrySet()) {
                String key = paperName(e.getKey());
                if (key == null) {
                    unmapped.add(e.getKey());
                    continue;
                }
                Tensor t = e.getValue();
                if (key.endsWith(".ready")) {
                    t = t.reshape(new long[0]).round().to(ScalarType.Long);
                } else if (key.endsWith("2.net.4.logs") && cfg.logScaleFactor() != 1.0) {
                    t = t.mul(s(cfg.logScaleFactor())); // the paper's Conv2dZeros has factor 1
                }
                out.put(key, Tensors.keep(t.contiguous()));
            }
        }
        if (!unmapped.isEmpty()) {
            throw new IllegalArgumentException("the paper's model has no parameter for " + String.join(", ", unmapped));
        }
        return out;
    }
}
