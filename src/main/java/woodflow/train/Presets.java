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
        Path file = fileOf(nameOrPath);
        return file != null ? RunConfig.read(file) : load(nameOrPath);
    }

    /**
     * The file {@link #resolve} reads for {@code nameOrPath}, or null when it names a preset: a name ending in .yaml,
     * .yml or .json, or an existing file that is not a preset's name (as train's --config reads any file).
     */
    public static Path fileOf(String nameOrPath) {
        if (nameOrPath == null) return null;
        if (nameOrPath.endsWith(".yaml") || nameOrPath.endsWith(".yml") || nameOrPath.endsWith(".json")) {
            return Path.of(nameOrPath);
        }
        if (names().contains(nameOrPath)) return null;
        try {
            return java.nio.file.Files.isRegularFile(Path.of(nameOrPath)) ? Path.of(nameOrPath) : null;
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    private static InputStream open(String name) {
        InputStream in = name.matches("[A-Za-z0-9._-]+") ? Presets.class.getResourceAsStream("/presets/" + name + ".yaml")
                : null;
        if (in == null) {
            List<String> near = woodflow.core.Choices.closest(name, names());
            throw new IllegalArgumentException("unknown preset '" + name + "'" + (near.isEmpty() ? ""
                    : "; did you mean " + String.join(" or ", near) + "?") + " (`woodflow presets` lists all "
                    + names().size() + ")");
        }
        return in;
    }
}
