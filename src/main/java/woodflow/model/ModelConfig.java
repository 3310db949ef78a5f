package woodflow.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The architecture of a multi-scale flow (Glow's, Kingma &amp; Dhariwal 2018; the paper's sizes are in Lu &amp; Huang
 * 2020, supplement Tables 2 and 3; docs/FORMULAS.md): image shape, levels L, steps K per level, coupling channels, the
 * permutation layer and coupling of every step, and the latent dimensions of the Woodbury layers per level.
 * Missing fields take the defaults below; {@link #validate()} rejects impossible values with a message that names
 * the field.
 *
 * <p>Class conditioning: {@code conditional: class} ({@link Conditioning}; {@code none} by default) conditions the top
 * prior and every split prior on the image's class (Glow's {@code ycond}, docs/FORMULAS.md); {@code classes} are the
 * class names in label order (training fills them in from the data's labels, so they travel with the run's config
 * and checkpoints; a config that names them must name the data's); {@code class_loss_weight} (0 by default; Glow's
 * {@code weight_y}) adds the class-prediction loss from the top latent.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelConfig(
        @JsonProperty("channels") Integer channels,
        @JsonProperty("height") Integer height,
        @JsonProperty("width") Integer width,
        @JsonProperty("levels") Integer levels,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("hidden") Integer hidden,
        @JsonProperty("permutation") Permutation permutation,
        @JsonProperty("coupling") CouplingType coupling,
        @JsonProperty("d_c") int[] dC,
        @JsonProperty("d_s") int[] dS,
        @JsonProperty("d_h") int[] dH,
        @JsonProperty("d_w") int[] dW,
        @JsonProperty("learn_top") Boolean learnTop,
        @JsonProperty("logscale_factor") Double logScaleFactor,
        @JsonProperty("kernel") Integer kernel,
        @JsonProperty("spline_bins") Integer splineBins,
        @JsonProperty("spline_bound") Double splineBound,
        @JsonProperty("conditional") Conditioning conditional,
        @JsonProperty("classes") List<String> classes,
        @JsonProperty("class_loss_weight") Double classLossWeight) {

    public ModelConfig {
        channels = channels == null ? 3 : channels;
        height = height == null ? 32 : height;
        width = width == null ? width(height) : width;
        levels = levels == null ? 3 : levels;
        steps = steps == null ? 8 : steps;
        hidden = hidden == null ? 512 : hidden;
        permutation = permutation == null ? Permutation.WOODBURY : permutation;
        coupling = coupling == null ? CouplingType.AFFINE : coupling;
        learnTop = learnTop == null ? Boolean.TRUE : learnTop;
        logScaleFactor = logScaleFactor == null ? 1.0 : logScaleFactor;
        kernel = kernel == null ? 3 : kernel;
        splineBins = splineBins == null ? 4 : splineBins;
        splineBound = splineBound == null ? 3.0 : splineBound;
        dC = dC == null ? fill(levels, 16) : dC;
        dS = dS == null ? fill(levels, 16) : dS;
        dH = dH == null ? fill(levels, 16) : dH;
        dW = dW == null ? fill(levels, 16) : dW;
        conditional = conditional == null ? Conditioning.NONE : conditional;
        classes = classes == null ? null : List.copyOf(classes);
        classLossWeight = classLossWeight == null ? 0.0 : classLossWeight;
    }

    private static Integer width(Integer height) {
        return height;
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[Math.max(n, 0)];
        Arrays.fill(a, v);
        return a;
    }

    /** A config with the given shape and architecture and default everything else. */
    public static ModelConfig of(int c, int h, int w, int levels, int steps, int hidden, Permutation permutation) {
        return new Builder().channels(c).height(h).width(w).levels(levels).steps(steps).hidden(hidden)
                .permutation(permutation).build();
    }

    /** A builder holding this config's fields, to change some and {@link Builder#build()} a new one. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public ModelConfig withCoupling(CouplingType c) {
        return toBuilder().coupling(c).build();
    }

    public ModelConfig withPermutation(Permutation p) {
        return toBuilder().permutation(p).build();
    }

    /** The latent dimensions of the Woodbury layers per level; a null list stays as it is. */
    public ModelConfig withLatentDims(int[] dC, int[] dS, int[] dH, int[] dW) {
        return toBuilder().dC(dC).dS(dS).dH(dH).dW(dW).build();
    }

    public ModelConfig withShape(int c, int h, int w) {
        return toBuilder().channels(c).height(h).width(w).build();
    }

    public ModelConfig withSteps(int k) {
        return toBuilder().steps(k).build();
    }

    public ModelConfig withHidden(int hid) {
        return toBuilder().hidden(hid).build();
    }

    /**
     * The fields of a {@link ModelConfig}, each settable by name: one place that lists them all, so a change of one
     * field does not copy the other sixteen by hand. A null leaves a field as it is (every field of a model config has
     * a default, so null never means "none"); a builder made by {@code new Builder()} starts from nulls, which
     * {@link #build()} turns into the defaults.
     */
    public static final class Builder {
        private Integer channels, height, width, levels, steps, hidden, kernel, splineBins;
        private Permutation permutation;
        private CouplingType coupling;
        private int[] dC, dS, dH, dW;
        private Boolean learnTop;
        private Double logScaleFactor, splineBound, classLossWeight;
        private Conditioning conditional;
        private List<String> classes;

        Builder() {}

        private Builder(ModelConfig m) {
            channels = m.channels;
            height = m.height;
            width = m.width;
            levels = m.levels;
            steps = m.steps;
            hidden = m.hidden;
            permutation = m.permutation;
            coupling = m.coupling;
            dC = m.dC;
            dS = m.dS;
            dH = m.dH;
            dW = m.dW;
            learnTop = m.learnTop;
            logScaleFactor = m.logScaleFactor;
            kernel = m.kernel;
            splineBins = m.splineBins;
            splineBound = m.splineBound;
            conditional = m.conditional;
            classes = m.classes;
            classLossWeight = m.classLossWeight;
        }

        private static <T> T or(T given, T kept) {
            return given != null ? given : kept;
        }

        public Builder channels(Integer v) {
            channels = or(v, channels);
            return this;
        }

        public Builder height(Integer v) {
            height = or(v, height);
            return this;
        }

        public Builder width(Integer v) {
            width = or(v, width);
            return this;
        }

        public Builder levels(Integer v) {
            levels = or(v, levels);
            return this;
        }

        public Builder steps(Integer v) {
            steps = or(v, steps);
            return this;
        }

        public Builder hidden(Integer v) {
            hidden = or(v, hidden);
            return this;
        }

        public Builder permutation(Permutation v) {
            permutation = or(v, permutation);
            return this;
        }

        public Builder coupling(CouplingType v) {
            coupling = or(v, coupling);
            return this;
        }

        public Builder dC(int[] v) {
            dC = or(v, dC);
            return this;
        }

        public Builder dS(int[] v) {
            dS = or(v, dS);
            return this;
        }

        public Builder dH(int[] v) {
            dH = or(v, dH);
            return this;
        }

        public Builder dW(int[] v) {
            dW = or(v, dW);
            return this;
        }

        public Builder learnTop(Boolean v) {
            learnTop = or(v, learnTop);
            return this;
        }

        public Builder logScaleFactor(Double v) {
            logScaleFactor = or(v, logScaleFactor);
            return this;
        }

        public Builder kernel(Integer v) {
            kernel = or(v, kernel);
            return this;
        }

        public Builder splineBins(Integer v) {
            splineBins = or(v, splineBins);
            return this;
        }

        public Builder splineBound(Double v) {
            splineBound = or(v, splineBound);
            return this;
        }

        public Builder conditional(Conditioning v) {
            conditional = or(v, conditional);
            return this;
        }

        /** The class names; unlike the other fields, null here means "none yet" (training fills them from the data). */
        public Builder classes(List<String> v) {
            classes = v;
            return this;
        }

        public Builder classLossWeight(Double v) {
            classLossWeight = or(v, classLossWeight);
            return this;
        }

        public ModelConfig build() {
            return new ModelConfig(channels, height, width, levels, steps, hidden, permutation, coupling, dC, dS, dH,
                    dW, learnTop, logScaleFactor, kernel, splineBins, splineBound, conditional, classes,
                    classLossWeight);
        }
    }

    /**
     * With class conditioning {@code c} on the classes {@code names} (their labels are their positions; null: to be
     * filled from the data) and the weight of the class-prediction loss (0: none).
     */
    public ModelConfig withClasses(Conditioning c, List<String> names, double lossWeight) {
        return toBuilder().conditional(c).classes(names).classLossWeight(lossWeight).build();
    }

    /** Whether the priors are conditioned on the class ({@code model.conditional: class}). */
    public boolean classConditional() {
        return conditional == Conditioning.CLASS;
    }

    /** The number of classes of a class-conditional model (its {@code classes}), 0 for any other. */
    public int classCount() {
        return classConditional() && classes != null ? classes.size() : 0;
    }

    /** Throws {@link IllegalArgumentException} naming every impossible value. */
    public ModelConfig validate() {
        List<String> p = new ArrayList<>();
        if (channels <= 0) p.add("channels must be positive, got " + channels);
        if (height <= 0 || width <= 0) p.add("image size must be positive, got " + height + "x" + width);
        if (levels <= 0) p.add("levels (L) must be at least 1, got " + levels);
        if (steps <= 0) p.add("steps (K) must be at least 1, got " + steps);
        if (hidden <= 0) p.add("coupling channels (hidden) must be positive, got " + hidden);
        if (levels > 0 && levels < 31 && height > 0 && width > 0) {
            int f = 1 << levels;
            if (height % f != 0) {
                p.add("image height " + height + " is not divisible by 2^L = " + f + " (L = " + levels + " levels)");
            }
            if (width % f != 0) {
                p.add("image width " + width + " is not divisible by 2^L = " + f + " (L = " + levels + " levels)");
            }
        }
        for (LatentDimension d : permutation.latentDimensions()) dims(p, d.key(), d.of(this));
        if (kernel <= 0 || kernel % 2 == 0) p.add("kernel must be a positive odd number, got " + kernel);
        if (splineBins < 1) p.add("spline_bins must be at least 1, got " + splineBins);
        if (!(splineBound > 0)) p.add("spline_bound must be positive, got " + splineBound);
        if (!(classLossWeight >= 0) || Double.isInfinite(classLossWeight)) {
            p.add("class_loss_weight must be a number >= 0 (0 = no class-prediction loss), got " + classLossWeight);
        }
        if (!classConditional() && classLossWeight > 0) {
            p.add("class_loss_weight needs model.conditional: class (the class is predicted from the top latent of a "
                    + "class-conditional model)");
        }
        if (classes != null) {
            if (classConditional() && classes.size() < 2) {
                p.add("a class-conditional model needs at least 2 classes, got " + classes.size() + " " + classes);
            }
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String c : classes) {
                if (c == null || c.isBlank()) p.add("classes: a class name is empty");
                else if (!seen.add(c.toLowerCase(java.util.Locale.ROOT))) p.add("classes: '" + c + "' appears twice");
            }
        }
        if (!p.isEmpty()) throw new IllegalArgumentException(String.join("; ", p));
        return this;
    }

    private void dims(List<String> p, String name, int[] d) {
        if (d.length < levels) {
            p.add("latent dimension list " + name + " has " + d.length + " entries but the model has L = " + levels
                    + " levels");
            return;
        }
        for (int i = 0; i < d.length; i++) {
            if (d[i] <= 0) p.add(name + "[" + i + "] must be positive, got " + d[i]);
        }
    }

    /**
     * A note (at most one line) when a Woodbury latent dimension is larger than what it mixes at its level (d_c above
     * the level's channels, d_s above its pixels, d_h / d_w above its height / width). {@code U V} then has rank at
     * most that size, so the surplus adds parameters and time but no expressiveness. Legal, and a note rather than a
     * warning: the paper's code uses d = 16 at every level, also where a level has fewer channels, and the presets
     * that reproduce it do the same. The note names each case and the trimmed lists to set instead.
     */
    public List<String> notes() {
        List<String> cases = new ArrayList<>(), trims = new ArrayList<>();
        for (LatentDimension d : permutation.latentDimensions()) {
            surplus(d.key(), d.of(this), l -> d.mixed(levelShape(l)), d.unit(), cases, trims);
        }
        if (cases.isEmpty()) return List.of();
        return List.of("latent dimensions above what their level mixes (" + String.join(", ", cases) + ") add "
                + "parameters but no expressiveness, as in the paper's code; for a leaner model set "
                + String.join(", ", trims));
    }

    private void surplus(String name, int[] d, java.util.function.IntUnaryOperator size, String unit,
                         List<String> cases, List<String> trims) {
        int[] trimmed = new int[Math.min(d.length, levels)];
        boolean any = false;
        for (int l = 0; l < trimmed.length; l++) {
            int n = size.applyAsInt(l);
            trimmed[l] = Math.min(d[l], n);
            if (d[l] > n) {
                cases.add(name + "[" + l + "] = " + d[l] + " > " + n + unit);
                any = true;
            }
        }
        if (any) trims.add(name + ": " + java.util.Arrays.toString(trimmed));
    }

    /** One field that differs between two configs: its YAML name and both values. */
    public record Difference(String field, String mine, String theirs) {}

    /** The fields (by their YAML names, in declaration order) whose values differ from {@code other}'s. */
    public List<Difference> differences(ModelConfig other) {
        List<Difference> out = new ArrayList<>();
        for (java.lang.reflect.RecordComponent c : ModelConfig.class.getRecordComponents()) {
            try {
                Object a = c.getAccessor().invoke(this), b = c.getAccessor().invoke(other);
                if (!java.util.Objects.deepEquals(a, b)) {
                    String name = c.getAccessor().getAnnotation(JsonProperty.class).value();
                    out.add(new Difference(name, text(a), text(b)));
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    private static String text(Object v) {
        return v instanceof int[] a ? Arrays.toString(a) : String.valueOf(v);
    }

    /** Channels, height and width of the input to the steps of level {@code l} (after its squeeze). */
    public int[] levelShape(int l) {
        int c = channels, h = height, w = width;
        for (int i = 0; i <= l; i++) {
            c *= 4;
            h /= 2;
            w /= 2;
            if (i < l) c /= 2;
        }
        return new int[] {c, h, w};
    }

    public int dimensions() {
        return channels * height * width;
    }
}
