package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import woodflow.nn.ConvRouting;
import woodflow.nn.ConvShape;
import woodflow.nn.FastPathCheck;

import java.util.Set;

/**
 * The start-up check of a training run's fast paths on the machine it runs on: the convolution shapes the model uses
 * (recorded from one real training step) are checked one by one against the reference path ({@link FastPathCheck}),
 * then the whole training gradient of the batch is computed on both paths and compared. A shape that fails is routed
 * to the reference path; a whole-gradient difference that remains after that routes every convolution there. Nothing
 * of the model or the optimiser changes.
 *
 * @param shapes  the per-shape checks
 * @param first   the whole-gradient comparison before any routing
 * @param last    the comparison after the per-shape routing (the same object as {@code first} when nothing was routed)
 * @param seconds the time the check took
 */
public record SelfCheck(FastPathCheck.Report shapes, TrainStep.PathComparison first, TrainStep.PathComparison last,
                        boolean routedAll, double seconds) {
    /** How often each shape runs on the fast path (the second and later runs on memory pre-filled with NaN). */
    public static final int REPEATS = 2;

    public static SelfCheck run(TrainStep stepper, Tensor uint8Batch, long iteration, String device) {
        return run(stepper, uint8Batch, null, iteration, device);
    }

    /** As above with the batch's class labels, for a class-conditional model (null: the classes in turn). */
    public static SelfCheck run(TrainStep stepper, Tensor uint8Batch, int[] labels, long iteration, String device) {
        long t0 = System.nanoTime();
        TrainStep.PathComparison first;
        Set<ConvShape> seen;
        try (ConvRouting.Recording rec = ConvRouting.recording()) {
            first = stepper.compareWithReference(uint8Batch, labels, iteration);
            seen = rec.shapes();
        }
        FastPathCheck.Report report = FastPathCheck.run(seen, REPEATS, device);
        TrainStep.PathComparison last = first;
        if (!report.passed() || !first.agrees()) last = stepper.compareWithReference(uint8Batch, labels, iteration);
        boolean all = !last.agrees();
        if (all) ConvRouting.routeAll();
        return new SelfCheck(report, first, last, all, (System.nanoTime() - t0) / 1e9);
    }

    public boolean passed() {
        return shapes.passed() && first.agrees();
    }

    /**
     * A training run's check before its first step (of this session), on the batch it is about to train on: what an
     * earlier run in this process routed (a test, a study's cell) is forgotten, the check runs, and {@code log} gets a
     * warning for each shape that takes the reference path from now on, one more when every convolution does, or one
     * line saying that the fast path agrees. The check changes no state of the run.
     */
    static SelfCheck beforeTraining(TrainStep stepper, Tensor uint8Batch, int[] labels, long iteration, String device,
                                    RunLog log) {
        SelfCheck check = run(stepper, uint8Batch, labels, iteration, device);
        for (FastPathCheck.Outcome o : check.shapes().failed()) {
            log.warn("self-check: the fast convolution path (oneDNN) is wrong on this CPU for " + o.shape() + " ("
                    + o.problem() + "): it takes the reference path from now on (slower; `woodflow doctor` lists every "
                    + "check)");
        }
        if (check.routedAll()) {
            log.warn("self-check: on this CPU the fast convolution path gives a different training gradient than the "
                    + "reference path (" + check.last().problem() + "): every convolution takes the reference path "
                    + "(slower; `woodflow doctor` lists every check)");
        }
        if (check.passed()) {
            log.say(String.format(java.util.Locale.ROOT, "self-check: the fast convolution path agrees with the "
                    + "reference path on this CPU (%d shapes, max rel. error %.1e; training gradient within %.1e) in "
                    + "%.1f s", check.shapes().outcomes().size(), check.shapes().worstError(),
                    check.first().relativeError(), check.seconds()));
        }
        return check;
    }
}
