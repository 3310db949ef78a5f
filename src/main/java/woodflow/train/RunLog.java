package woodflow.train;

import java.io.PrintStream;

/**
 * The lines a training run prints: information (left out in quiet mode), warnings (always printed; during the loop
 * through the progress display, so never over a bar) and notices (a recovery: through the progress display, or
 * plainly in quiet mode).
 */
final class RunLog {
    private final PrintStream out;
    private final boolean quiet;
    private Progress progress;

    RunLog(PrintStream out, boolean quiet) {
        this.out = out;
        this.quiet = quiet;
    }

    /** The progress display of the loop, or null outside it. */
    void progress(Progress p) {
        progress = p;
    }

    Progress progress() {
        return progress;
    }

    boolean quiet() {
        return quiet;
    }

    PrintStream out() {
        return out;
    }

    void say(String line) {
        if (!quiet && out != null) out.println(line);
    }

    void warn(String line) {
        if (progress != null && !quiet) {
            progress.message("warning: " + line);
        } else if (out != null) {
            out.println("warning: " + line);
        }
    }

    void notice(String line) {
        if (quiet) {
            if (out != null) out.println(line);
        } else {
            progress.message(line);
        }
    }
}
