package woodflow.core;

import java.util.Locale;

/**
 * Numbers as the user reads them: a figure that was never measured (NaN) or is not finite is said in words, never
 * printed as "NaN" or "Infinity".
 */
public final class Figures {
    private Figures() {}

    /** {@code v} with {@code decimals} decimals, or {@code missing} when it is NaN, or "not finite". */
    public static String fixed(double v, int decimals, String missing) {
        if (Double.isNaN(v)) return missing;
        if (Double.isInfinite(v)) return "not finite";
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** A bits-per-dimension figure, four decimals; "not measured" when there is none. */
    public static String bpd(double v) {
        return fixed(v, 4, "not measured");
    }

    /** A computed bits-per-dimension figure, four decimals; "not finite" when the model's output overflowed. */
    public static String computed(double v) {
        return fixed(v, 4, "not finite");
    }
}
