package woodflow.cli;

import picocli.CommandLine.Model.CommandSpec;
import woodflow.compare.Study;

import java.util.List;

/** What {@code compare} and {@code ablate} share after parsing: the command line for the report, the exit. */
final class Studies {
    private Studies() {}

    /** "woodflow ARGS..." as typed (the parse result's original arguments include the subcommand). */
    static String commandLine(CommandSpec spec) {
        return Main.commandLine(spec.commandLine().getParseResult().originalArgs());
    }

    /** Exit code 0, or an error naming the runs that failed (the table and report are written either way). */
    static int finish(Study.Outcome outcome) {
        List<String> f = outcome.failures();
        if (f.isEmpty()) return 0;
        throw new IllegalStateException(f.size() + " run(s) failed, the table lists the others: " + f.get(0)
                + (f.size() > 1 ? " (and " + (f.size() - 1) + " more)" : "") + "; see each run's train.log, and run "
                + "the same command again to retry them");
    }
}
