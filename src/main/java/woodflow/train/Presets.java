package woodflow.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The named run configurations shipped in the jar under {@code presets/NAME.yaml}. */
public final class Presets {
    private Presets() {}

    /** Names of all presets, in the order of {@code presets/index.txt}. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        try (InputStream in = Presets.class.getResourceAsStream("/presets/index.txt")) {
            if (in == null) return out;
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) out.add(line);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** The preset's YAML text, as shipped (for {@code woodflow presets --show NAME}). */
    public static String text(String name) {
        try (InputStream in = open(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static RunConfig load(String name) {
        try (InputStream in = open(name)) {
            return RunConfig.parse(in, "preset " + name);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A preset name, or a path to a YAML/JSON file. */
    public static RunConfig resolve(String nameOrPath) {
        if (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml") || nameOrPath.endsWith(".json")) {
            return RunConfig.read(Path.of(nameOrPath));
        }
        return load(nameOrPath);
    }

    private static InputStream open(String name) {
        InputStream in = name.matches("[A-Za-z0-9._-]+") ? Presets.class.getResourceAsStream("/presets/" + name + ".yaml")
                : null;
        if (in == null) {
            List<String> near = closest(name, names());
            throw new IllegalArgumentException("unknown preset '" + name + "'" + (near.isEmpty() ? ""
                    : "; did you mean " + String.join(" or ", near) + "?") + " (`woodflow presets` lists all "
                    + names().size() + "; or pass a .yaml/.json file with --config)");
        }
        return in;
    }

    /**
     * The candidates nearest to a mistyped {@code name} (at most three): by edit distance, within a third of the
     * name's length, or those that contain it or that it contains.
     */
    static List<String> closest(String name, List<String> candidates) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
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
