package woodflow.data;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Locale;

/**
 * Where a run's images come from and how they are prepared (SPEC §3-4). {@code kind} names the format:
 * {@code embedded} (generated, no files), {@code idx} / {@code fashion-mnist} (IDX files, plain or gzipped),
 * {@code cifar10} (binary batches), {@code folder} (PNG/JPEG images), {@code imagenet} (.npz batches or PNG folders),
 * {@code lsun} (LMDB of encoded images), {@code celeba} (folder of large images, seeded hold-out).
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
        @JsonProperty("cache") String cache) {

    public DataConfig {
        kind = kind == null ? "embedded" : kind.toLowerCase(Locale.ROOT);
        nBits = nBits == null ? 8 : nBits;
        seed = seed == null ? 0L : seed;
        onBadImage = onBadImage == null ? "fail" : onBadImage.toLowerCase(Locale.ROOT);
    }

    public static DataConfig embedded() {
        return new DataConfig("embedded", null, null, null, null, null, null, null, null, null, null);
    }

    public DataConfig withPath(String p) {
        return new DataConfig(kind, p, nBits, size, trainLimit, testLimit, seed, holdout, onBadImage, count, cache);
    }

    public DataConfig withLimits(Integer train, Integer test) {
        return new DataConfig(kind, path, nBits, size, train, test, seed, holdout, onBadImage, count, cache);
    }
}
