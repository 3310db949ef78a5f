package woodflow.compare;

import woodflow.core.Jvm;
import woodflow.core.ProcessGroup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs {@link CellRunner} for one run folder in a new JVM with this JVM's class path and memory, stack and module
 * options, its output appended to {@code RUN/train.log}. A child process per run is what makes the peak memory of
 * each method measurable (a process's peak resident set only grows) and keeps one method's crash from ending the
 * study. If this JVM is stopped, or interrupted while it waits, the child is stopped too ({@link ProcessGroup}).
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** What a child run ended with: its exit code and the last line of its log. */
    record Outcome(int exitCode, String lastLine) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    static List<String> command(Path runDir, Budget budget) {
        return Jvm.child(CellRunner.class).args(runDir.toAbsolutePath().toString(), budget.encode()).command();
    }

    static Outcome run(Path runDir, Budget budget) throws IOException, InterruptedException {
        Files.createDirectories(runDir);
        Path log = runDir.resolve("train.log");
        try (ProcessGroup child = new ProcessGroup()) {
            int code = child.start(new ProcessBuilder(command(runDir, budget)), ProcessGroup.Output.appendTo(log))
                    .waitFor();
            return new Outcome(code, lastLine(log));
        }
    }

    private static String lastLine(Path log) throws IOException {
        if (!Files.exists(log)) return "";
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (!lines.get(i).isBlank()) return lines.get(i).strip();
        }
        return "";
    }
}
