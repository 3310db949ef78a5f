package woodflow.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import woodflow.data.DataException;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code woodflow} command line: train, evaluate, sample and compare normalizing flows with Woodbury
 * transformations. Every command prints a one-line reason and exits non-zero on failure.
 */
@Command(name = "woodflow", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Normalizing flows with Woodbury transformations: train, evaluate, sample, compare.",
        subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, SampleCommand.class,
                ScoreCommand.class, InspectCommand.class, PresetsCommand.class, DataCommand.class, BenchCommand.class,
                CompareCommand.class, AblateCommand.class, SoakCommand.class, DoctorCommand.class, ServeCommand.class,
                ExportCommand.class, ImportCommand.class, ReplayCommand.class, InterpolateCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** The version of the jar (its manifest), as the run report shows it. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"woodflow " + woodflow.report.RunReport.version()};
        }
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (0 success, 1 failure, 2 usage error). */
    public static int execute(String... args) {
        // for the run report: the command as the user typed it (this session's)
        System.setProperty("woodflow.commandLine", commandLine(java.util.Arrays.asList(args)));
        CommandLine cl = new CommandLine(new Main());
        registerChoices(cl);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("woodflow: error: " + reason(ex));
            if (Boolean.getBoolean("woodflow.debug")) ex.printStackTrace(err);
            err.flush();
            return 1;
        });
        // A usage error (unknown command or option, bad or missing value) in the same one-line form, with picocli's
        // suggestions and a pointer to --help instead of a page of usage.
        cl.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println("woodflow: error: " + plainWords(ex.getMessage()));
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            // a closed choice's error lists the names and the nearest one: no need to send the user to --help
            if (!(ex.getCause() instanceof UnknownChoice)) {
                err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the usage.");
            }
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl.execute(args);
    }

    /**
     * The parser's message in the user's words: a number's kind instead of the Java type it converts to ("'abc' is not
     * a number", "is not a whole number"), "unexpected argument 'x'" instead of "Unmatched argument at index N".
     */
    static String plainWords(String message) {
        if (message == null) return "the command line could not be read";
        return message
                .replaceAll("'([^']*)' is not an? (?:double|float|BigDecimal)$", "'$1' is not a number")
                .replaceAll("'([^']*)' is not an? (?:int|long|short|byte|BigInteger)$", "'$1' is not a whole number")
                .replaceAll("^Unmatched arguments? (?:at|from) index \\d+: ", "unexpected argument ")
                .replaceAll("^unexpected argument ('[^']*'(?:, '[^']*')+)$", "unexpected arguments $1");
    }

    /**
     * {@code woodflow ARGS...} as a shell reads it back: an argument of other than plain characters (letters, digits,
     * {@code _ . / = : , + -}) in single quotes, a quote inside one as {@code '\\''}.
     */
    static String commandLine(List<String> args) {
        List<String> parts = new ArrayList<>(List.of("woodflow"));
        for (String a : args) parts.add(a.matches("[A-Za-z0-9_./=:,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        return String.join(" ", parts);
    }

    /**
     * The closed choices typed on the command line, by the names configs use: an unknown name is a one-line usage
     * error that lists the names and suggests the nearest. Registered after the subcommands, so all of them see it.
     */
    static void registerChoices(CommandLine cl) {
        choice(cl, woodflow.core.Precision.class, woodflow.core.Precision::parse);
        choice(cl, woodflow.train.Backprop.class, woodflow.train.Backprop::parse);
        choice(cl, woodflow.model.Permutation.class, woodflow.model.Permutation::parse);
        choice(cl, woodflow.model.CouplingType.class, woodflow.model.CouplingType::parse);
        choice(cl, woodflow.data.DataKind.class, woodflow.data.DataKind::parse);
        choice(cl, woodflow.data.BadImagePolicy.class, woodflow.data.BadImagePolicy::parse);
        choice(cl, woodflow.data.Dequantization.class, woodflow.data.Dequantization::parse);
        choice(cl, woodflow.compare.Ablation.Parameter.class, woodflow.compare.Ablation::parameter);
        choice(cl, woodflow.data.DataSplit.class, woodflow.data.DataSplit::parse);
        choice(cl, woodflow.interop.PaperExport.Layout.class, woodflow.interop.PaperExport.Layout::parse);
        choice(cl, woodflow.train.Weights.class, woodflow.train.Weights::parse);
        choice(cl, woodflow.sample.Interpolation.Mode.class, woodflow.sample.Interpolation.Mode::parse);
        choice(cl, woodflow.train.LrSchedule.Kind.class, woodflow.train.LrSchedule.Kind::parse);
    }

    /** A name that is none of a closed choice's: its message lists them and suggests the nearest. */
    private static final class UnknownChoice extends CommandLine.TypeConversionException {
        UnknownChoice(String message) {
            super(message);
        }
    }

    private static <T> void choice(CommandLine cl, Class<T> type, java.util.function.Function<String, T> parse) {
        cl.registerConverter(type, text -> {
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                throw new UnknownChoice(e.getMessage());
            }
        });
    }

    /** The one-line reason of a failure, without engine stack traces or Java type names. */
    static String reason(Throwable ex) {
        return woodflow.core.Reasons.of(ex);
    }
}
