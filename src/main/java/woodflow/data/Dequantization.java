package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * {@code data.dequantization}: how integer pixels become the continuous input of a flow (docs/FORMULAS.md).
 * {@code uniform} (the default, the paper's): noise from U(0, 1/n_bins); {@code variational}: noise from a small
 * flow conditioned on the image, trained with the model (Flow++'s variational dequantisation; {@code
 * model.VariationalDequantizer}), sized by {@code data.dequantizer_steps} and {@code data.dequantizer_hidden}.
 */
public enum Dequantization implements Choice {
    UNIFORM, VARIATIONAL;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static Dequantization parse(String name) {
        return Choices.parse(Dequantization.class, name, "data.dequantization");
    }
}
