package woodflow.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * For tests that build YAML flow mappings from a base and overrides: a config may not give a key twice (the reader
 * refuses it), so an override replaces the base's entry instead of following it.
 */
public final class FlowMappings {
    private FlowMappings() {}

    /** {@code base} ("a: 1, b: [2, 3]") with the entries of {@code extra} ("b: 4, c: 5") put in: "a: 1, b: 4, c: 5". */
    public static String merge(String base, String extra) {
        Map<String, String> entries = new LinkedHashMap<>();
        for (String s : List.of(base, extra)) {
            for (String e : split(s)) {
                int colon = e.indexOf(':');
                entries.put(e.substring(0, colon).strip(), e.substring(colon + 1).strip());
            }
        }
        List<String> out = new ArrayList<>();
        entries.forEach((k, v) -> out.add(k + ": " + v));
        return String.join(", ", out);
    }

    /** The top-level entries of a flow mapping's body, split at commas outside brackets. */
    private static List<String> split(String body) {
        List<String> out = new ArrayList<>();
        int depth = 0, start = 0;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '[' || c == '{') depth++;
            else if (c == ']' || c == '}') depth--;
            else if (c == ',' && depth == 0) {
                if (!body.substring(start, i).isBlank()) out.add(body.substring(start, i));
                start = i + 1;
            }
        }
        if (!body.substring(start).isBlank()) out.add(body.substring(start));
        return out;
    }
}
