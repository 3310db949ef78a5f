package woodflow.model;

/**
 * A list of latent dimensions of the paper's low-rank layers, one per level (Lu &amp; Huang 2020, section 3): the
 * channel transform's {@code d_c}, the spatial transform's {@code d_s} (Woodbury), and the memory-efficient variant's
 * height and width transforms {@code d_h}, {@code d_w}. Each knows its key in configs, its list in a
 * {@link ModelConfig}, and what it mixes at a level, the largest rank that can add expressiveness.
 */
public enum LatentDimension {
    D_C(" channels") {
        @Override
        public int[] of(ModelConfig m) {
            return m.dC();
        }

        @Override
        public int mixed(int[] levelShape) {
            return levelShape[0];
        }
    },
    D_S(" pixels") {
        @Override
        public int[] of(ModelConfig m) {
            return m.dS();
        }

        @Override
        public int mixed(int[] levelShape) {
            return levelShape[1] * levelShape[2];
        }
    },
    D_H(" rows") {
        @Override
        public int[] of(ModelConfig m) {
            return m.dH();
        }

        @Override
        public int mixed(int[] levelShape) {
            return levelShape[1];
        }
    },
    D_W(" columns") {
        @Override
        public int[] of(ModelConfig m) {
            return m.dW();
        }

        @Override
        public int mixed(int[] levelShape) {
            return levelShape[2];
        }
    };

    private final String unit;

    LatentDimension(String unit) {
        this.unit = unit;
    }

    /** The key in configs: {@code d_c}, {@code d_s}, {@code d_h}, {@code d_w}. */
    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** What {@link #mixed} counts, with its leading space: " channels", " pixels", " rows", " columns". */
    public String unit() {
        return unit;
    }

    /** This list of {@code m}, one entry per level. */
    public abstract int[] of(ModelConfig m);

    /** How many of what this dimension mixes a level of shape {@code (c, h, w)} has. */
    public abstract int mixed(int[] levelShape);
}
