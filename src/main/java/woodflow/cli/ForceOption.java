package woodflow.cli;

import picocli.CommandLine.Option;

/** {@code --force}, a mixin of the commands that write a file: replace an existing file of another kind. */
final class ForceOption {
    @Option(names = "--force", description = "Replace an existing output file even if it is not of the kind this "
            + "command writes (never one of the command's inputs).")
    boolean force;
}
