package woodflow.data;

/** A data set that cannot be read: a missing, truncated or corrupt file, or images of the wrong shape. */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
