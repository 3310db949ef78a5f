package woodflow.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Names of closed choices: parsing with a "did you mean" for a typo, and the nearest names to a mistyped one. */
public final class Choices {
    private Choices() {}

    /**
     * The constant of {@code type} whose label (or enum name) is {@code text}, ignoring case; otherwise an
     * {@link IllegalArgumentException} "unknown WHAT 'text': use one of a, b, c; did you mean b?".
     */
    public static <E extends Enum<E> & Choice> E parse(Class<E> type, String text, String what) {
        E[] all = type.getEnumConstants();
        for (E e : all) {
            if (e.label().equalsIgnoreCase(text) || e.name().equalsIgnoreCase(text)) return e;
            for (String a : e.aliases()) if (a.equalsIgnoreCase(text)) return e;
        }
        List<String> labels = Arrays.stream(all).map(Choice::label).toList();
        List<String> near = text == null ? List.of() : closest(text, labels);
        throw new IllegalArgumentException("unknown " + what + " '" + text + "': use " + (labels.size() == 2
                ? labels.get(0) + " or " + labels.get(1) : "one of " + String.join(", ", labels))
                + (near.isEmpty() ? "" : "; did you mean " + String.join(" or ", near) + "?"));
    }

    /**
     * The candidates nearest to a mistyped {@code name} (at most three): by edit distance, within a third of the
     * name's length, or those that contain it or that it contains.
     */
    public static List<String> closest(String name, List<String> candidates) {
        String n = name.toLowerCase(Locale.ROOT);
        int limit = Math.max(2, n.length() / 3);
        int best = Integer.MAX_VALUE;
        List<String> out = new ArrayList<>();
        for (String c : candidates) {
            int d = c.contains(n) || n.contains(c) ? 1 : distance(n, c);
            if (d > limit) continue;
            if (d < best) {
                best = d;
                out.clear();
            }
            if (d == best && out.size() < 3) out.add(c);
        }
        return out;
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
