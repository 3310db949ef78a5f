package woodflow.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Locale;

/**
 * Where a run's images come from and how they are prepared (SPEC §3-4). {@code kind} names the format:
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
        @JsonProperty("kind") String kind,
        @JsonProperty("path") String path,
        @JsonProperty("n_bits") Integer nBits,
        @JsonProperty("size") Integer size,
        @JsonProperty("train_limit") Integer trainLimit,
        @JsonProperty("test_limit") Integer testLimit,
        @JsonProperty("seed") Long seed,
        @JsonProperty("holdout") Integer holdout,
        @JsonProperty("on_bad_image") String onBadImage,
        @JsonProperty("count") Integer count,
        @JsonProperty("cache") String cache,
        @JsonProperty("channels") Integer channels,
        @JsonProperty("workers") Integer workers,
        @JsonProperty("style") String style) {

    public DataConfig {
        kind = kind == null ? "embedded" : kind.toLowerCase(Locale.ROOT);
        nBits = nBits == null ? 8 : nBits;
        seed = seed == null ? 0L : seed;
        onBadImage = onBadImage == null ? "fail" : onBadImage.toLowerCase(Locale.ROOT);
    }

    /** The original eleven fields; {@code channels}, {@code workers} and {@code style} left to their defaults. */
    public DataConfig(String kind, String path, Integer nBits, Integer size, Integer trainLimit, Integer testLimit,
                      Long seed, Integer holdout, String onBadImage, Integer count, String cache) {
        this(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache, null, null, null);
    }

    public static DataConfig embedded() {
        return new DataConfig("embedded", null, null, null, null, null, null, null, null, null, null);
    }

    /** A configuration of {@code kind} reading {@code path}, every other field at its default. */
    public static DataConfig of(String kind, String path) {
        return new DataConfig(kind, path, null, null, null, null, null, null, null, null, null);
    }

    public DataConfig withPath(String p) {
        return new DataConfig(kind, p, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                channels, workers, style);
    }

    public DataConfig withLimits(Integer train, Integer test) {
        return new DataConfig(kind, path, nBits, size, train, test, seed, holdout, onBadImage, count, cache,
                channels, workers, style);
    }

    public DataConfig withSize(Integer s) {
        return new DataConfig(kind, path, nBits, s, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                channels, workers, style);
    }

    public DataConfig withSeed(long s) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, s, holdout, onBadImage, count, cache,
                channels, workers, style);
    }

    public DataConfig withHoldout(Integer h) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, h, onBadImage, count, cache,
                channels, workers, style);
    }

    public DataConfig withOnBadImage(String policy) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, policy, count, cache,
                channels, workers, style);
    }

    public DataConfig withCount(Integer n) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, n, cache,
                channels, workers, style);
    }

    public DataConfig withCache(String dir) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, dir,
                channels, workers, style);
    }

    public DataConfig withChannels(Integer c) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                c, workers, style);
    }

    public DataConfig withStyle(String s) {
        return new DataConfig(kind, path, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache,
                channels, workers, s);
    }
}
