package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * What a folder-like source does with a file it cannot decode ({@code data.on_bad_image}, {@code score
 * --on-bad-image}): {@code fail} stops with the file's name, {@code skip} leaves it out and counts it.
 */
public enum BadImagePolicy implements Choice {
    SKIP, FAIL;

    @Override
    public String toString() {
        return label();
    }

    @JsonCreator
    public static BadImagePolicy parse(String name) {
        return Choices.parse(BadImagePolicy.class, name, "data.on_bad_image");
    }
}
