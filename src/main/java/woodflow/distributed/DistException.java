package woodflow.distributed;

/** A data-parallel group failed: a rank was lost, could not join, or disagrees; the message is one line. */
public final class DistException extends IllegalStateException {
    public DistException(String message) {
        super(message);
    }
}
