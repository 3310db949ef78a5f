package woodflow.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * Training progress for a person: on a terminal, a progress bar that moves every step (elapsed time, steps per
 * second, ETA) with a log line printed above it every log interval; without a terminal (CI, pipes, files), only the
 * log lines. A run with a time budget (a fair-time comparison) shows the training time left instead of an iteration
 * count it will not reach. A test bpd is shown with the iteration it was measured at, since it stays the same until
 * the next evaluation.
 */
public interface Progress extends AutoCloseable {
    /** Every training step, so that a bar moves between log lines. */
    default void tick(long iteration) {}

    /**
     * Every log interval. {@code testIteration}: where {@code testBpd} was measured; {@code trainSeconds}: the
     * training steps' time so far, over all sessions (what a time budget counts); {@code skippedSteps}: steps skipped
     * as non-finite so far (shown when there are any); {@code lr}: the learning rate of the last step (NaN: not
     * shown).
     */
    void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd, long testIteration,
            double trainSeconds, long skippedSteps, double lr);

    /** A line of its own (an evaluation, a warning), never drawn over the bar. */
    void message(String line);

    @Override
    void close();

    /**
     * {@code total}: the iteration budget; {@code timeLimitSeconds}: the training-time budget (infinite for none).
     * With a time budget and no real iteration budget, the count of iterations is open-ended.
     */
    static Progress create(long start, long total, double timeLimitSeconds, PrintStream out, boolean quiet) {
        long shownTotal = Double.isFinite(timeLimitSeconds) && total >= Integer.MAX_VALUE ? -1 : total;
        if (quiet) return new Plain(start, shownTotal, timeLimitSeconds, null);
        if (System.console() != null) return new Bar(start, shownTotal, timeLimitSeconds, System.err);
        return new Plain(start, shownTotal, timeLimitSeconds, out);
    }

    /** A progress bar on the terminal, with the log lines above it. */
    final class Bar implements Progress {
        /** Carriage return and ANSI "erase the whole line": what the bar drew goes before a line is printed. */
        static final String CLEAR_LINE = "\r\033[2K";
        private final ProgressBar bar;
        private final PrintStream err;
        private final Plain lines;

        Bar(long start, long total, double timeLimitSeconds, PrintStream err) {
            this.err = err;
            lines = new Plain(start, total, timeLimitSeconds, null);
            bar = style("train", Math.max(total, 0), " it", ChronoUnit.SECONDS, err).startsFrom(start, Duration.ZERO)
                    .build();
        }

        /** The look every woodflow bar shares: ASCII, redrawn every 200 ms on {@code err}, with its speed. */
        static ProgressBarBuilder style(String task, long max, String unit, ChronoUnit speedUnit, PrintStream err) {
            return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(200).setConsumer(new ConsoleProgressBarConsumer(err)).setUnit(unit, 1)
                    .setSpeedUnit(speedUnit).showSpeed();
        }

        @Override
        public void tick(long iteration) {
            bar.stepTo(iteration);
        }

        @Override
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd,
                long testIteration, double trainSeconds, long skippedSteps, double lr) {
            bar.stepTo(iteration);
            // short, so the bar keeps its width on an 80-column terminal: the log line above has the rest
            bar.setExtraMessage(String.format(Locale.ROOT, " bpd %.3f%s", trainBpd,
                    skippedSteps > 0 ? " skipped " + skippedSteps : ""));
            message(lines.line(iteration, trainBpd, imagesPerSecond, testBpd, testIteration, trainSeconds,
                    skippedSteps, lr));
        }

        @Override
        public void message(String line) {
            // one print call, so the bar's refresh thread cannot draw between the erase and the line
            synchronized (err) {
                err.print(CLEAR_LINE + line + System.lineSeparator());
                err.flush();
            }
            bar.refresh();
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** One line per log interval: for logs without a terminal. */
    final class Plain implements Progress {
        private final long total;
        private final double timeLimitSeconds;
        private final PrintStream out;
        private final long startNanos = System.nanoTime();
        private final long firstIteration;

        Plain(long start, long total, double timeLimitSeconds, PrintStream out) {
            this.firstIteration = start;
            this.total = total;
            this.timeLimitSeconds = timeLimitSeconds;
            this.out = out;
        }

        @Override
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd,
                long testIteration, double trainSeconds, long skippedSteps, double lr) {
            if (out != null) out.println(line(iteration, trainBpd, imagesPerSecond, testBpd, testIteration,
                    trainSeconds, skippedSteps, lr));
        }

        /** The interval's mean training bpd; none when every step of the interval was skipped as non-finite. */
        private static String trainBpd(double v) {
            return woodflow.core.Figures.fixed(v, 4, "none (every step skipped)");
        }

        /** The log line of an update; its ETA is the pace since this session started. */
        String line(long iteration, double trainBpd, double imagesPerSecond, double testBpd, long testIteration,
                double trainSeconds, long skippedSteps, double lr) {
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            long done = iteration - firstIteration;
            String test = (Double.isNaN(testBpd) ? "" : String.format(Locale.ROOT, "  test %.4f (iter %d)", testBpd,
                    testIteration)) + (skippedSteps > 0 ? "  skipped " + skippedSteps : "")
                    + (Double.isNaN(lr) ? "" : String.format(Locale.ROOT, "  lr %.2e", lr));
            if (total < 0) {
                double left = Math.max(0, timeLimitSeconds - trainSeconds);
                return String.format(Locale.ROOT, "iter %d  bpd %s%s  %.1f img/s  %s of training left", iteration,
                        trainBpd(trainBpd), test, imagesPerSecond, formatSeconds(left));
            }
            double eta = done > 0 ? elapsed / done * (total - iteration) : Double.NaN;
            return String.format(Locale.ROOT, "iter %d/%d  bpd %s%s  %.1f img/s  ETA %s", iteration, total,
                    trainBpd(trainBpd), test, imagesPerSecond, Double.isNaN(eta) ? "?" : formatSeconds(eta));
        }

        @Override
        public void message(String line) {
            if (out != null) out.println(line);
        }

        @Override
        public void close() {}
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, (t % 3600) / 60)
                : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
