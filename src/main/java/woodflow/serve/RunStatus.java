package woodflow.serve;

import woodflow.train.SummaryStatus;

/** Where a run folder stands, as the runs table shows it. */
public enum RunStatus {
    /** A trainer holds the folder's lock. */
    RUNNING("running"),
    /** The trainer wrote its final summary. */
    FINISHED("finished"),
    /** The trainer stopped on an error and said so in summary.json. */
    FAILED("failed"),
    /** A trainer ran here and stopped without finishing or saying why (killed): {@code --resume} continues it. */
    STALE_LOCK("stale lock"),
    /** No trainer has locked this folder (e.g. copied results). */
    UNKNOWN("unknown");

    public final String label;

    RunStatus(String label) {
        this.label = label;
    }

    /** From the lock's state and the {@code status} of summary.json (null when there is none). */
    static RunStatus of(LockProbe.State lock, String summaryStatus) {
        if (lock == LockProbe.State.HELD) return RUNNING;
        if (SummaryStatus.FINISHED.label().equals(summaryStatus)) return FINISHED;
        if (SummaryStatus.FAILED.label().equals(summaryStatus)) return FAILED;
        return lock == LockProbe.State.RELEASED ? STALE_LOCK : UNKNOWN;
    }
}
