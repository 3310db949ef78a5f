package woodflow.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * Which weights of a checkpoint a command uses ({@code --weights}): the {@code raw} weights the optimiser trained, or
 * their exponential moving average ({@code ema}, Polyak averaging; written when {@code train.ema} is on, see
 * {@link WeightAverage}). Without the option a command takes the averaged weights when the checkpoint holds them,
 * else the raw ones.
 */
public enum Weights implements Choice {
    RAW, EMA;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static Weights parse(String name) {
        return Choices.parse(Weights.class, name, "--weights");
    }
}
