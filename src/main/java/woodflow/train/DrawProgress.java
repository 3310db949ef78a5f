package woodflow.train;

import me.tongfei.progressbar.ProgressBar;

import java.io.PrintStream;
import java.time.temporal.ChronoUnit;

/**
 * The draws of {@code eval --samples K} for a person at a terminal: a bar as training's ({@link Progress.Bar}) over
 * the K draws, each one evaluation of the whole split, with the rate, the ETA and the last draw's one-sample bpd.
 * Without a terminal nothing is drawn (stdout keeps its lines for scripts).
 */
public final class DrawProgress implements ImportanceWeightedBound.Progress, AutoCloseable {
    private final ProgressBar bar;

    public DrawProgress(int samples, PrintStream err) {
        bar = Progress.Bar.style("eval", samples, " draws", ChronoUnit.MINUTES, err).build();
    }

    /** A bar on stderr when it is a terminal and there is more than one draw; otherwise null (nothing shown). */
    public static DrawProgress onTerminal(int samples) {
        return samples > 1 && System.console() != null ? new DrawProgress(samples, System.err) : null;
    }

    @Override
    public void drawDone(int draw, double meanBpd) {
        bar.stepTo(draw + 1);
        bar.setExtraMessage(" bpd " + woodflow.core.Figures.fixed(meanBpd, 4, "none"));
    }

    @Override
    public void close() {
        bar.close();
    }
}
