package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/** One of a run's two data sets: what {@code eval --split} names, and what errors about a split say. */
public enum DataSplit implements Choice {
    TEST("test", "test_limit"),
    TRAIN("training", "train_limit");

    private final String words;
    private final String limitKey;

    DataSplit(String words, String limitKey) {
        this.words = words;
        this.limitKey = limitKey;
    }

    /** The split in a sentence: "the training set", "the test images". */
    public String words() {
        return words;
    }

    /** The key of {@code data} that limits this split's size. */
    public String limitKey() {
        return limitKey;
    }

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static DataSplit parse(String name) {
        return Choices.parse(DataSplit.class, name, "--split");
    }

    /** This split of {@code data}. */
    public ImageSource of(Splits data) {
        return this == TEST ? data.test() : data.train();
    }
}
