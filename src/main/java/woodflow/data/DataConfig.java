package woodflow.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where a run's images come from and how they are prepared (SPEC §3-4). {@code kind} names the format:
 * {@code embedded} (generated, no files), {@code idx} / {@code fashion-mnist} (IDX files, plain or gzipped),
 * {@code cifar10} (binary batches), {@code folder} (PNG/JPEG/WebP images), {@code imagenet} (.npz batches or PNG
 * folders), {@code lsun} (LMDB of encoded images), {@code celeba} (folder of large images, seeded hold-out).
 * See {@link DataSets} for the file layout each kind expects and the defaults of the optional fields.
 *
 * <p>{@code channels} (1 grey, 3 RGB) is what folder-like formats convert to when no model decides it (data
 * inspect); {@code workers} is the number of background decoding threads of the batch streamer.
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
        @JsonProperty("workers") Integer workers) {

    public DataConfig {
        kind = kind == null ? DataKind.EMBEDDED : kind;
        nBits = nBits == null ? 8 : nBits;
        seed = seed == null ? 0L : seed;
        onBadImage = onBadImage == null ? BadImagePolicy.FAIL : onBadImage;
    }

    /** The original eleven fields; {@code channels} and {@code workers} left to their defaults. */
    public DataConfig(DataKind kind, String path, Integer nBits, Integer size, Integer trainLimit, Integer testLimit,
                      Long seed, Integer holdout, BadImagePolicy onBadImage, Integer count, String cache) {
        this(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache, null, null);
    }

    public static DataConfig embedded() {
        return new DataConfig(DataKind.EMBEDDED, null, null, null, null, null, null, null, null, null, null);
    }

    /** A configuration of {@code kind} reading {@code path}, every other field at its default. */
    public static DataConfig of(DataKind kind, String path) {
        return new DataConfig(kind, path, null, null, null, null, null, null, null, null, null);
    }

    public DataConfig withPath(String p) {
        return new DataConfig(kind, p, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                channels, workers);
    }

    public DataConfig withLimits(Integer train, Integer test) {
        return new DataConfig(kind, path, nBits, size, train, test, seed, holdout, onBadImage, count, cache,
                channels, workers);
    }

    public DataConfig withSize(Integer s) {
        return new DataConfig(kind, path, nBits, s, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                channels, workers);
    }

    public DataConfig withSeed(long s) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, s, holdout, onBadImage, count, cache,
                channels, workers);
    }

    public DataConfig withHoldout(Integer h) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, h, onBadImage, count, cache,
                channels, workers);
    }

    public DataConfig withOnBadImage(BadImagePolicy policy) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, policy, count, cache,
                channels, workers);
    }

    public DataConfig withCount(Integer n) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, n, cache,
                channels, workers);
    }

    public DataConfig withCache(String dir) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, dir,
                channels, workers);
    }

    public DataConfig withChannels(Integer c) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                c, workers);
    }
}
