package woodflow.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The two generators behind {@code data.kind: embedded}, chosen by {@code data.style}: {@code scenes} (the default,
 * {@link EmbeddedSource}: backgrounds with one to three shapes) and {@code shapes} ({@link ShapeSource}: one labelled
 * shape on a plain background, the demo's data).
 */
public enum EmbeddedStyle {
    SCENES, SHAPES;

    /** The style named by {@code data.style} (null: scenes); an unknown name is an error listing the known ones. */
    public static EmbeddedStyle parse(String name) {
        if (name == null) return SCENES;
        for (EmbeddedStyle s : values()) {
            if (s.configName().equals(name.toLowerCase(Locale.ROOT))) return s;
        }
        throw new DataException("unknown data.style \"" + name + "\" for the embedded data set; use " + Arrays.stream(
                values()).map(EmbeddedStyle::configName).collect(Collectors.joining(" or ")));
    }

    /** The name in a config file. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code count} images of this style, {@code channels x size x size}, indices {@code first..} of {@code seed}. */
    public ImageSource source(int count, int channels, int size, long seed, long first) {
        return this == SCENES ? new EmbeddedSource(count, channels, size, seed, first)
                : new ShapeSource(count, channels, size, seed, first);
    }
}
