package woodflow.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * How a training step computes its gradients ({@code train.backprop}, {@code --backprop}): {@code standard}
 * backpropagation through stored activations, or {@code invertible}, which stores only each level's output and
 * recomputes the activations from the layers' inverses ({@link InvertibleBackprop}), so memory does not grow with
 * the number of steps.
 */
public enum Backprop implements Choice {
    STANDARD, INVERTIBLE;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static Backprop parse(String name) {
        return Choices.parse(Backprop.class, name, "backprop");
    }
}
