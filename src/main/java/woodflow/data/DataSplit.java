package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/** Which of a run's data sets a command reads ({@code eval --split}). */
public enum DataSplit implements Choice {
    TEST, TRAIN;

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
