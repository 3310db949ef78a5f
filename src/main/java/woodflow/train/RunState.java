package woodflow.train;

/**
 * Where a training run stands, shared by the parts of the {@link Trainer}: the counters a checkpoint holds (so a
 * resumed run continues bit for bit) and the latest figures a summary and the progress line show.
 */
final class RunState {
    /** The next iteration to run (= the iterations done). */
    long iteration;
    double lr;
    long skipped;
    int badInARow;
    /** Restores from one checkpoint since the last checkpoint was written; the run gives up past the limit. */
    int recoveries;
    /** The sum and count of the finite losses of the current log interval. */
    double logLossSum;
    int logSteps;
    double best = Double.NaN;
    double lastTest = Double.NaN;
    long lastTestIteration;
    double lastImagesPerSecond = Double.NaN;
    /** The training steps' time over all sessions (what a time budget counts). */
    double trainSeconds;

    /** What a checkpoint holds of the run, with the optimiser's step. */
    Checkpoint.TrainState saved(long adamStep) {
        return new Checkpoint.TrainState(iteration, adamStep, best, lr, skipped, trainSeconds, logLossSum, logSteps,
                badInARow);
    }

    /** The counters of a checkpoint. */
    void restore(Checkpoint.TrainState st) {
        iteration = st.iteration();
        best = st.bestTestBpd();
        lr = st.lr();
        skipped = st.skippedSteps();
        trainSeconds = st.trainSeconds();
        logLossSum = st.logLossSum();
        logSteps = st.logSteps();
        badInARow = st.badInARow();
    }

    /** Counts one step's loss: NaN is a skipped step. */
    void stepped(double loss) {
        if (Double.isNaN(loss)) {
            skipped++;
            badInARow++;
        } else {
            badInARow = 0;
        }
    }

    /** The mean training bpd of the log interval so far (NaN without a finite loss), and a new interval begun. */
    double closeLogInterval() {
        double trainBpd = logSteps > 0 ? logLossSum / logSteps : Double.NaN;
        logLossSum = 0;
        logSteps = 0;
        return trainBpd;
    }
}
