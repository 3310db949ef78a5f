package woodflow.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * What a model's priors are conditioned on ({@code model.conditional}): nothing (the default), or the image's class
 * ({@code class}): the top prior and every split prior take a learned embedding of the class, as Glow's
 * {@code ycond} (Kingma &amp; Dhariwal 2018) and normflows' {@code ClassCondFlow} do; see {@link woodflow.layers.ClassEmbedding}.
 */
public enum Conditioning implements Choice {
    NONE, CLASS;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static Conditioning parse(String name) {
        return Choices.parse(Conditioning.class, name, "model.conditional");
    }
}
