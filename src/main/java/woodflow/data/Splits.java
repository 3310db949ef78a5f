package woodflow.data;

import java.nio.file.Path;
import java.util.List;

/**
 * The training and test images of a data set, as opened by {@link DataSets#open}.
 *
 * @param train   training images
 * @param test    test images (the paper's test set, or a seeded hold-out)
 * @param holdout names of the held-out test images when the test set is a seeded hold-out (file names relative to
 *                the data folder, or LMDB keys), otherwise empty
 */
public record Splits(ImageSource train, ImageSource test, List<String> holdout) implements AutoCloseable {
    public Splits {
        holdout = List.copyOf(holdout);
    }

    /** Writes the hold-out list, one name per line, when there is one (e.g. to {@code run/holdout.txt}). */
    public void writeHoldout(Path file) {
        if (!holdout.isEmpty()) HoldoutSplit.write(holdout, file);
    }

    @Override
    public void close() {
        try {
            train.close();
        } finally {
            test.close();
        }
    }
}
