package woodflow.train;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress for a person: a terminal progress bar (iteration, bpd, images/s, ETA) when there is a terminal,
 * and plain log lines (one per log interval) when there is none (CI, pipes, files).
 */
public interface Progress extends AutoCloseable {
    void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd);

    void message(String line);

    @Override
    void close();

    static Progress create(long start, long total, PrintStream out, boolean quiet) {
        if (quiet) return new Plain(total, null);
        if (System.console() != null) return new Bar(start, total);
        return new Plain(total, out);
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
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd) {
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
        private final PrintStream out;
        private final long startNanos = System.nanoTime();
        private long firstIteration = -1;

        Plain(long total, PrintStream out) {
            this.total = total;
            this.out = out;
        }

        @Override
        public void update(long iteration, double trainBpd, double imagesPerSecond, double testBpd) {
            if (out == null) return;
            if (firstIteration < 0) firstIteration = iteration;
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            long done = iteration - firstIteration;
            double eta = done > 0 ? elapsed / done * (total - iteration) : Double.NaN;
            out.printf(Locale.ROOT, "iter %d/%d  bpd %.4f%s  %.1f img/s  ETA %s%n", iteration, total, trainBpd,
                    Double.isNaN(testBpd) ? "" : String.format(Locale.ROOT, "  test %.4f", testBpd), imagesPerSecond,
                    Double.isNaN(eta) ? "?" : formatSeconds(eta));
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
