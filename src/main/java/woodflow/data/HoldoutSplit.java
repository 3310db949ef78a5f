package woodflow.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A seeded random hold-out: of {@code n} items in a fixed order (sorted file names, LMDB keys), {@code holdout} are
 * chosen for testing by a Fisher-Yates shuffle driven by {@link SplitMix64} stream {@code (seed, "holdout")}; both
 * parts are returned in the original order. Since the order of the items and the generator are both fully specified,
 * the split is the same on every run, JVM and machine (CelebA-HQ: 3,000 test images, as in Kingma and Dhariwal 2018).
 *
 * @param train indices of the training items, ascending
 * @param test  indices of the held-out items, ascending
 */
public record HoldoutSplit(int[] train, int[] test) {
    /** Stream id of the hold-out shuffle, so it never coincides with an epoch permutation of the same seed. */
    private static final long STREAM = 0x686f6c646f7574L; // "holdout"

    public static HoldoutSplit of(int n, int holdout, long seed) {
        if (holdout < 0) throw new DataException("data.holdout must not be negative, got " + holdout);
        if (holdout >= n) {
            throw new DataException("a hold-out of " + holdout + " test images leaves nothing to train on: the data set"
                    + " has only " + n + " images; set data.holdout below " + n);
        }
        int[] perm = SplitMix64.of(seed, STREAM).permutation(n);
        int[] test = Arrays.copyOf(perm, holdout);
        int[] train = Arrays.copyOfRange(perm, holdout, n);
        Arrays.sort(test);
        Arrays.sort(train);
        return new HoldoutSplit(train, test);
    }

    /** Names of the held-out items, in index order. */
    public List<String> testNames(List<String> names) {
        List<String> out = new ArrayList<>(test.length);
        for (int i : test) out.add(names.get(i));
        return out;
    }

    /** What {@link #write} writes: image file names, one a line. */
    public static final woodflow.io.OutputGuard.FileKind LIST = new woodflow.io.OutputGuard.FileKind(
            "a hold-out list (image file names, one a line)", List.of(".txt"), head -> {
                String[] lines = new String(head, StandardCharsets.UTF_8).split("\n", -1);
                // the last piece may be cut off by the length of the head
                for (int i = 0; i < lines.length - 1; i++) {
                    if (!lines[i].strip().toLowerCase(java.util.Locale.ROOT).matches(".+\\.(png|jpe?g|webp)")) {
                        return false;
                    }
                }
                return lines.length > 1;
            });

    /** Writes one name per line (UTF-8), atomically, so a split can be checked or reproduced elsewhere. */
    public static void write(List<String> names, Path file) {
        try {
            woodflow.io.AtomicFiles.writeString(file, names.isEmpty() ? "" : String.join("\n", names) + "\n");
        } catch (IOException e) {
            throw new DataException(file + ": cannot write the hold-out list (" + e.getMessage() + ")", e);
        }
    }
}
