package woodflow.core;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.List;
import java.util.Locale;

/**
 * A closed choice that users name in YAML and on the command line (a permutation layer, a coupling, a data format...):
 * an enum whose constants each carry the name users type. {@link Choices#parse} turns a name into the constant, with
 * a "did you mean" for a typo; the name is what configs and checkpoints store, so it never changes. An enum that
 * implements this writes its name to JSON/YAML through {@link #label()}, and gives its {@code toString()} and a
 * static {@code parse} (its {@code @JsonCreator}) of its own, since an interface can give neither.
 */
public interface Choice {
    /**
     * The name in YAML, JSON and on the command line, as users type it: by default the constant's name in lower
     * case with '-' for '_' ({@code ME_WOODBURY} is {@code me-woodbury}, {@code BF16_MIXED} is {@code bf16-mixed}).
     */
    @JsonValue
    default String label() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Other names that mean this choice (none unless a constant says so). */
    default List<String> aliases() {
        return List.of();
    }
}
