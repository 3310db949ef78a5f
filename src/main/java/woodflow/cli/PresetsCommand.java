package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

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
        for (String name : Presets.names()) {
            RunConfig c = Presets.load(name);
            var m = c.model();
            System.out.printf("%-26s %dx%dx%d L=%d K=%d h=%d %s/%s  %s%n", name, m.channels(), m.height(), m.width(),
                    m.levels(), m.steps(), m.hidden(), m.permutation(), m.coupling(), c.description());
        }
        return 0;
    }
}
