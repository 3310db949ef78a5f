package woodflow.core;

/** A numerical fault that would otherwise produce garbage: a near-singular matrix, a non-finite value. */
public class NumericalException extends RuntimeException {
    public NumericalException(String message) {
        super(message);
    }
}
