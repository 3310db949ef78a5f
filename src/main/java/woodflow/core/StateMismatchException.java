package woodflow.core;

/**
 * A saved state that does not fit a module: names or shapes differ (a checkpoint of another architecture). The
 * message holds the count and the first few differences; {@link #count()} the count alone, for a caller that can
 * say more briefly what differs (the two model configs).
 */
public final class StateMismatchException extends IllegalArgumentException {
    private final int count;

    public StateMismatchException(String message, int count) {
        super(message);
        this.count = count;
    }

    /** How many tensors are missing, unexpected or of another shape. */
    public int count() {
        return count;
    }
}
