package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code woodflow presets}: lists the named presets, or prints one to copy and edit. */
@Command(name = "presets", mixinStandardHelpOptions = true,
        description = {"List the named presets, or print one (--show NAME) to copy and edit.",
                "Example: woodflow presets --show fmnist-woodbury > my.yaml"})
public final class PresetsCommand implements Callable<Integer> {
    @Option(names = "--show", description = "Print this preset's YAML.")
    String show;

    @Override
    public Integer call() {
        if (show != null) {
            Presets.load(show).validate();
            System.out.print(Presets.text(show));
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"preset", "image", "L", "K", "hidden", "layer", "coupling", "description"});
        for (String name : Presets.names()) {
            RunConfig c = Presets.load(name);
            var m = c.model();
            rows.add(new String[] {name, m.channels() + "x" + m.height() + "x" + m.width(), "" + m.levels(),
                    "" + m.steps(), "" + m.hidden(), m.permutation().label(), m.coupling().label(), c.description()});
        }
        System.out.print(columns(rows));
        return 0;
    }

    /**
     * Rows as left-aligned columns two spaces apart (columns of numbers right-aligned); the last column is not
     * padded.
     */
    static String columns(List<String[]> rows) {
        int n = rows.get(0).length;
        int[] width = new int[n];
        for (String[] r : rows) for (int i = 0; i < n; i++) width[i] = Math.max(width[i], r[i].length());
        boolean[] number = new boolean[n];
        for (int i = 0; i < n; i++) number[i] = rows.size() > 1 && rows.get(1)[i].matches("\\d+");
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < n; i++) {
                String pad = " ".repeat(width[i] - r[i].length());
                b.append(i == n - 1 ? r[i] : number[i] ? pad + r[i] : r[i] + pad);
                if (i < n - 1) b.append("  ");
            }
            b.append(System.lineSeparator());
        }
        return b.toString();
    }
}
