package woodflow.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/** The {@code status} a trainer writes into {@code summary.json}: how the run stood when it was written. */
public enum SummaryStatus implements Choice {
    /** Written at each evaluation while the run trains. */
    RUNNING,
    /** Written when the run has trained its iterations (or its time). */
    FINISHED,
    /** Written when the run stopped on an error, with the reason beside it. */
    FAILED;

    @Override
    public String toString() {
        return label();
    }

    /** The status named {@code name}, as summary.json holds it. */
    @JsonCreator
    public static SummaryStatus parse(String name) {
        return Choices.parse(SummaryStatus.class, name, "summary status");
    }
}
