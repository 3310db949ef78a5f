package woodflow.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import woodflow.core.Choice;
import woodflow.core.Choices;

/**
 * The two generators behind {@code data.kind: embedded}, chosen by {@code data.style}: {@code scenes} (the default,
 * {@link EmbeddedSource}: backgrounds with one to three shapes) and {@code shapes} ({@link ShapeSource}: one labelled
 * shape on a plain background, the demo's data).
 */
public enum EmbeddedStyle implements Choice {
    SCENES, SHAPES;

    @Override
    public String toString() {
        return label();
    }

    /** The style named by {@code data.style}; an unknown name is an error listing the known ones. */
    @JsonCreator
    public static EmbeddedStyle parse(String name) {
        return Choices.parse(EmbeddedStyle.class, name, "data.style");
    }

    /** {@code count} images of this style, {@code channels x size x size}, indices {@code first..} of {@code seed}. */
    public ImageSource source(int count, int channels, int size, long seed, long first) {
        return this == SCENES ? new EmbeddedSource(count, channels, size, seed, first)
                : new ShapeSource(count, channels, size, seed, first);
    }
}
