package woodflow.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where a run's images come from and how they are prepared (quantisation: docs/FORMULAS.md). {@code kind} names
 * the format:
 * {@code embedded} (generated, no files), {@code idx} / {@code fashion-mnist} (IDX files, plain or gzipped),
 * {@code cifar10} (binary batches), {@code folder} (PNG/JPEG/WebP images), {@code imagenet} (.npz batches or PNG
 * folders), {@code lsun} (LMDB of encoded images), {@code celeba} (folder of large images, seeded hold-out).
 * See {@link DataSets} for the file layout each kind expects and the defaults of the optional fields.
 *
 * <p>{@code channels} (1 grey, 3 RGB) is what folder-like formats convert to when no model decides it (data
 * inspect); {@code workers} is the number of background decoding threads of the batch streamer; {@code style} picks
 * the embedded generator ({@link EmbeddedStyle}: {@code scenes}, the default, or {@code shapes}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DataConfig(
        @JsonProperty("kind") DataKind kind,
        @JsonProperty("path") String path,
        @JsonProperty("n_bits") Integer nBits,
        @JsonProperty("size") Integer size,
        @JsonProperty("train_limit") Integer trainLimit,
        @JsonProperty("test_limit") Integer testLimit,
        @JsonProperty("seed") Long seed,
        @JsonProperty("holdout") Integer holdout,
        @JsonProperty("on_bad_image") BadImagePolicy onBadImage,
        @JsonProperty("count") Integer count,
        @JsonProperty("cache") String cache,
        @JsonProperty("channels") Integer channels,
        @JsonProperty("workers") Integer workers,
        @JsonProperty("style") EmbeddedStyle style) {

    public DataConfig {
        kind = kind == null ? DataKind.EMBEDDED : kind;
        nBits = nBits == null ? 8 : nBits;
        seed = seed == null ? 0L : seed;
        onBadImage = onBadImage == null ? BadImagePolicy.FAIL : onBadImage;
    }

    /** The original eleven fields; {@code channels}, {@code workers} and {@code style} left to their defaults. */
    public DataConfig(DataKind kind, String path, Integer nBits, Integer size, Integer trainLimit, Integer testLimit,
                      Long seed, Integer holdout, BadImagePolicy onBadImage, Integer count, String cache) {
        this(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache, null, null, null);
    }

    public static DataConfig embedded() {
        return new DataConfig(DataKind.EMBEDDED, null, null, null, null, null, null, null, null, null, null);
    }

    /** A configuration of {@code kind} reading {@code path}, every other field at its default. */
    public static DataConfig of(DataKind kind, String path) {
        return new DataConfig(kind, path, null, null, null, null, null, null, null, null, null);
    }

    /** A builder holding this config's fields, to change some and {@link Builder#build()} a new one. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public DataConfig withPath(String p) {
        return toBuilder().path(p).build();
    }

    /**
     * This config with its path replaced by a {@code --data-path} given on the command line (null: unchanged). Data
     * that reads no files (the embedded images) refuses it rather than ignore it silently.
     */
    public DataConfig withDataPath(String dataPath) {
        if (dataPath == null) return this;
        if (kind == DataKind.EMBEDDED) {
            throw new IllegalArgumentException("--data-path " + dataPath + " does not apply: this run's data.kind "
                    + "embedded reads no files (its images are generated from data.seed); drop --data-path, or use a "
                    + "config whose data.kind reads files (folder, idx, cifar10, ...)");
        }
        return withPath(dataPath);
    }

    public DataConfig withLimits(Integer train, Integer test) {
        return toBuilder().trainLimit(train).testLimit(test).build();
    }

    public DataConfig withSize(Integer s) {
        return toBuilder().size(s).build();
    }

    public DataConfig withSeed(long s) {
        return toBuilder().seed(s).build();
    }

    public DataConfig withHoldout(Integer h) {
        return toBuilder().holdout(h).build();
    }

    public DataConfig withCount(Integer n) {
        return toBuilder().count(n).build();
    }

    public DataConfig withCache(String dir) {
        return toBuilder().cache(dir).build();
    }

    public DataConfig withChannels(Integer c) {
        return toBuilder().channels(c).build();
    }

    public DataConfig withStyle(EmbeddedStyle s) {
        return toBuilder().style(s).build();
    }

    /**
     * The fields of a {@link DataConfig}, each settable by name: one place that lists them all, so a change of one
     * field does not copy the other twelve by hand.
     */
    public static final class Builder {
        private DataKind kind;
        private String path;
        private Integer nBits;
        private Integer size;
        private Integer trainLimit;
        private Integer testLimit;
        private Long seed;
        private Integer holdout;
        private BadImagePolicy onBadImage;
        private Integer count;
        private String cache;
        private Integer channels;
        private Integer workers;
        private EmbeddedStyle style;

        private Builder(DataConfig d) {
            kind = d.kind;
            path = d.path;
            nBits = d.nBits;
            size = d.size;
            trainLimit = d.trainLimit;
            testLimit = d.testLimit;
            seed = d.seed;
            holdout = d.holdout;
            onBadImage = d.onBadImage;
            count = d.count;
            cache = d.cache;
            channels = d.channels;
            workers = d.workers;
            style = d.style;
        }

        public Builder kind(DataKind v) {
            kind = v;
            return this;
        }

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder size(Integer v) {
            size = v;
            return this;
        }

        public Builder trainLimit(Integer v) {
            trainLimit = v;
            return this;
        }

        public Builder testLimit(Integer v) {
            testLimit = v;
            return this;
        }

        public Builder seed(Long v) {
            seed = v;
            return this;
        }

        public Builder holdout(Integer v) {
            holdout = v;
            return this;
        }

        public Builder onBadImage(BadImagePolicy v) {
            onBadImage = v;
            return this;
        }

        public Builder count(Integer v) {
            count = v;
            return this;
        }

        public Builder cache(String v) {
            cache = v;
            return this;
        }

        public Builder channels(Integer v) {
            channels = v;
            return this;
        }

        public Builder workers(Integer v) {
            workers = v;
            return this;
        }

        public Builder style(EmbeddedStyle v) {
            style = v;
            return this;
        }

        public DataConfig build() {
            return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count,
                    cache, channels, workers, style);
        }
    }
}
