package woodflow.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * woodflow's packages form an acyclic graph: a package uses only packages below it (cli above the commands' services,
 * above training and sampling, above the model, above layers and couplings, above nn, above core and io). A cycle
 * makes two packages one in all but name; this test names the first one it finds.
 */
class PackageCyclesTest {
    private static final Path MAIN = Path.of("src/main/java/woodflow");
    private static final Pattern USE = Pattern.compile("\\bwoodflow\\.([a-z0-9]+)\\.[A-Z]");

    /** package -> packages its sources name (imports and fully qualified uses alike). */
    static Map<String, Set<String>> graph() throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = MAIN.relativize(f.getParent()).toString().replace('/', '.');
                Set<String> uses = g.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = USE.matcher(Files.readString(f));
                while (m.find()) if (!m.group(1).equals(pkg)) uses.add(m.group(1));
            }
        }
        return g;
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
