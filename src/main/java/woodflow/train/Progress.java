package woodflow.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress for a person: a terminal progress bar (iteration, bpd, images/s, ETA) when there is a terminal,
 * and plain log lines (one per log interval) when there is none (CI, pipes, files). A run with a time budget (a
 * fair-time comparison) shows the training time left instead of an iteration count it will not reach.
 */
public interface Progress extends AutoCloseable {
    /** {@code trainSeconds}: the training steps' time so far, over all sessions (what a time budget counts). */
    void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd, double trainSeconds);

    void message(String line);

    @Override
    void close();

    /**
     * {@code total}: the iteration budget; {@code timeLimitSeconds}: the training-time budget (infinite for none).
     * With a time budget and no real iteration budget, the count of iterations is open-ended.
     */
    static Progress create(long start, long total, double timeLimitSeconds, PrintStream out, boolean quiet) {
        long shownTotal = Double.isFinite(timeLimitSeconds) && total >= Integer.MAX_VALUE ? -1 : total;
        if (quiet) return new Plain(shownTotal, timeLimitSeconds, null);
        if (System.console() != null) return new Bar(start, shownTotal);
        return new Plain(shownTotal, timeLimitSeconds, out);
    }

    /** A progress bar on the terminal. */
    final class Bar implements Progress {
        private final ProgressBar bar;

        Bar(long start, long total) {
            bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(total).startsFrom(start,
                    java.time.Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).showSpeed().build();
        }

        @Override
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd,
                double trainSeconds) {
            bar.stepTo(iteration);
            bar.setExtraMessage(String.format(Locale.ROOT, " bpd %.3f%s | %.1f img/s", trainBpd,
                    Double.isNaN(testBpd) ? "" : String.format(Locale.ROOT, " test %.3f", testBpd), imagesPerSecond));
        }

        @Override
        public void message(String line) {
            System.err.println("\r" + line);
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** One line per update: for logs without a terminal. */
    final class Plain implements Progress {
        private final long total;
        private final double timeLimitSeconds;
        private final PrintStream out;
        private final long startNanos = System.nanoTime();
        private long firstIteration = -1;

        Plain(long total, double timeLimitSeconds, PrintStream out) {
            this.total = total;
            this.timeLimitSeconds = timeLimitSeconds;
            this.out = out;
        }

        @Override
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd,
                double trainSeconds) {
            if (out == null) return;
            if (firstIteration < 0) firstIteration = iteration;
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            long done = iteration - firstIteration;
            String test = Double.isNaN(testBpd) ? "" : String.format(Locale.ROOT, "  test %.4f", testBpd);
            if (total < 0) {
                double left = Math.max(0, timeLimitSeconds - trainSeconds);
                out.printf(Locale.ROOT, "iter %d  bpd %.4f%s  %.1f img/s  %s of training left%n", iteration,
                        trainBpd, test, imagesPerSecond, formatSeconds(left));
                return;
            }
            double eta = done > 0 ? elapsed / done * (total - iteration) : Double.NaN;
            out.printf(Locale.ROOT, "iter %d/%d  bpd %.4f%s  %.1f img/s  ETA %s%n", iteration, total, trainBpd, test,
                    imagesPerSecond, Double.isNaN(eta) ? "?" : formatSeconds(eta));
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
