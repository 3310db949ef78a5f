package woodflow.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * woodflow's packages keep the layering that docs/ARCHITECTURE.md draws: the table there gives each package a
 * layer, and a package uses only packages on lower layers (cli above the commands' services, above the run report,
 * above training, above sampling, above the model, above layers, data and couplings, above io, nn and the
 * distributed runtime, above core). The table is read from the document itself, so the picture and the code cannot
 * drift apart: an edge that goes sideways or up fails, naming both packages, their layers and the file and line that
 * make the edge. A cycle is one such edge; {@link #thePackageGraphHasNoCycle} still names a whole one.
 */
class PackageCyclesTest {
    private static final Path MAIN = Path.of("src/main/java/woodflow");
    private static final Path ARCHITECTURE = Path.of("docs/ARCHITECTURE.md");
    private static final Pattern USE = Pattern.compile("\\bwoodflow\\.([a-z0-9]+)\\.[A-Z]");
    /** A row of the layer table: {@code    6  │ train ...  │ what it holds}. */
    private static final Pattern LAYER_ROW = Pattern.compile("^\\s*(\\d+)\\s*│([^│]*)│");

    /** Where package {@code from} names package {@code to} first: the file and line. */
    record Use(String from, String to, Path file, int line) {
        @Override
        public String toString() {
            return from + " -> " + to + " (" + file + ":" + line + ")";
        }
    }

    /** Every package's uses of another package (imports and fully qualified names alike), the first place of each. */
    static Map<String, Map<String, Use>> uses() throws IOException {
        Map<String, Map<String, Use>> g = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String pkg = MAIN.relativize(f.getParent()).toString().replace('/', '.');
                Map<String, Use> out = g.computeIfAbsent(pkg, k -> new TreeMap<>());
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = USE.matcher(lines.get(i));
                    while (m.find()) {
                        String to = m.group(1);
                        if (!to.equals(pkg)) out.putIfAbsent(to, new Use(pkg, to, f, i + 1));
                    }
                }
            }
        }
        return g;
    }

    /** package -> packages its sources name. */
    static Map<String, Set<String>> graph() throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        uses().forEach((p, u) -> g.put(p, new TreeSet<>(u.keySet())));
        return g;
    }

    /** The layer of every package, from the table in docs/ARCHITECTURE.md. */
    static Map<String, Integer> layers() throws IOException {
        Map<String, Integer> layer = new LinkedHashMap<>();
        for (String row : Files.readAllLines(ARCHITECTURE)) {
            Matcher m = LAYER_ROW.matcher(row);
            if (!m.find()) continue;
            for (String p : m.group(2).trim().split("\\s+")) {
                Integer was = layer.put(p, Integer.parseInt(m.group(1)));
                assertThat(was).as("package " + p + " is on two rows of the layer table in " + ARCHITECTURE).isNull();
            }
        }
        return layer;
    }

    @Test
    void everyPackageUsesOnlyPackagesOnLowerLayers() throws IOException {
        Map<String, Integer> layer = layers();
        Map<String, Map<String, Use>> uses = uses();
        assertThat(layer.keySet()).as("the packages in the layer table of " + ARCHITECTURE)
                .containsExactlyInAnyOrderElementsOf(uses.keySet());
        List<String> wrong = new ArrayList<>();
        uses.forEach((from, edges) -> edges.values().forEach(u -> {
            int a = layer.get(u.from()), b = layer.get(u.to());
            if (b >= a) {
                wrong.add(u + ": " + u.from() + " is on layer " + a + ", " + u.to() + " on layer " + b
                        + (a == b ? " beside it" : " above it"));
            }
        }));
        assertThat(wrong).as("uses that go sideways or up in the layering of " + ARCHITECTURE
                + " (a package uses only packages on lower layers)").isEmpty();
    }

    @Test
    void thePackageGraphHasNoCycle() throws IOException {
        Map<String, Set<String>> g = graph();
        assertThat(g).containsKeys("core", "nn", "layers", "coupling", "model", "train", "bench", "soak", "parity",
                "cli");
        List<String> cycle = findCycle(g);
        assertThat(cycle).as("package cycle " + String.join(" -> ", cycle)).isEmpty();
    }

    @Test
    void theLowPackagesUseNothingAboveThem() throws IOException {
        Map<String, Set<String>> g = graph();
        assertThat(g.get("core")).as("core uses").isEmpty();
        assertThat(g.get("nn")).as("nn uses").containsOnly("core");
        g.forEach((p, uses) -> assertThat(uses).as(p + " uses").doesNotContain("cli")); // the CLI only parses and calls
    }

    @Test
    void theCommandsTouchNoLibtorch() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN.resolve("cli"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains("org.bytedeco")) found.add(f + ":" + (i + 1));
                }
            }
        }
        assertThat(found).as("cli classes that name libtorch (a command parses, calls a service and prints)")
                .isEmpty();
    }

    /** A cycle as a list of packages (first repeated at the end), or empty. */
    static List<String> findCycle(Map<String, Set<String>> g) {
        Map<String, Integer> state = new TreeMap<>(); // 1 on the path, 2 done
        for (String start : g.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> c = visit(start, g, state, path);
            if (!c.isEmpty()) return c;
        }
        return List.of();
    }

    private static List<String> visit(String p, Map<String, Set<String>> g, Map<String, Integer> state,
            List<String> path) {
        Integer s = state.get(p);
        if (s != null && s == 2) return List.of();
        if (s != null && s == 1) {
            List<String> c = new ArrayList<>(path.subList(path.indexOf(p), path.size()));
            c.add(p);
            return c;
        }
        state.put(p, 1);
        path.add(p);
        for (String q : g.getOrDefault(p, Set.of())) {
            List<String> c = visit(q, g, state, path);
            if (!c.isEmpty()) return c;
        }
        path.remove(path.size() - 1);
        state.put(p, 2);
        return List.of();
    }
}
