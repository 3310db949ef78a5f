package woodflow.nn;

import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which convolutions of this process take the reference path instead of the fast one. The table is process-wide on
 * purpose: it records what this machine's libtorch computes wrongly, which holds for every model in the process.
 * Entries are added by {@link FastPathCheck} (a shape whose fast result disagreed with the reference) and by a
 * training step whose gradient was non-finite on the fast path and finite on the reference path ({@link #routeAll}).
 */
public final class ConvRouting {
    /** Test hook: changes the fast path's output of a shape (to force a mismatch). */
    public interface Fault {
        Tensor apply(ConvShape shape, Tensor fastOutput);

        /**
         * The fault seen on AMD Zen 5, for the shapes {@code which} accepts: the output unchanged, NaN in the backward
         * ({@code where} sends zeros to its unused branch, and 0 * inf is NaN).
         */
        static Fault nanGradient(java.util.function.Predicate<ConvShape> which) {
            return (shape, y) -> {
                if (!which.test(shape)) return y;
                Tensor never = org.bytedeco.pytorch.global.torch.zeros_like(y)
                        .to(org.bytedeco.pytorch.global.torch.ScalarType.Bool);
                return org.bytedeco.pytorch.global.torch.where(never,
                        y.mul(woodflow.core.Tensors.s(Double.POSITIVE_INFINITY)), y);
            };
        }
    }

    private static final Set<ConvShape> REFERENCE = ConcurrentHashMap.newKeySet();
    private static volatile boolean all;
    private static volatile Fault fault;
    private static final ThreadLocal<int[]> FORCED = ThreadLocal.withInitial(() -> new int[1]);
    private static final ThreadLocal<Set<ConvShape>> RECORDING = new ThreadLocal<>();
    private static final AtomicLong FAST_CALLS = new AtomicLong();

    private ConvRouting() {}

    static boolean useReference(ConvShape shape) {
        boolean ref = all || FORCED.get()[0] > 0 || (!REFERENCE.isEmpty() && REFERENCE.contains(shape.geometry()));
        if (!ref) FAST_CALLS.incrementAndGet();
        return ref;
    }

    /** True when no call can take the reference path or be recorded: the common case, decided without a shape. */
    static boolean idle() {
        return !all && REFERENCE.isEmpty() && FORCED.get()[0] == 0 && RECORDING.get() == null;
    }

    static void countFast() {
        FAST_CALLS.incrementAndGet();
    }

    static void record(ConvShape shape) {
        Set<ConvShape> r = RECORDING.get();
        // a forced reference scope's calls never take the fast path (the self-check's reference pass, a few images
        // at a time): their shapes are not the ones to check
        if (r != null && FORCED.get()[0] == 0) r.add(shape);
    }

    /** Routes one geometry (any batch size) to the reference path. */
    public static void routeToReference(ConvShape shape) {
        REFERENCE.add(shape.geometry());
    }

    /** Routes every convolution to the reference path. */
    public static void routeAll() {
        all = true;
    }

    public static boolean allReference() {
        return all;
    }

    public static boolean isReference(ConvShape shape) {
        return all || REFERENCE.contains(shape.geometry());
    }

    /** Back to the fast path everywhere (tests, and a new self-check). */
    public static void reset() {
        REFERENCE.clear();
        all = false;
    }

    /** How many convolutions took the fast path so far in this process (to tell whether a step used it). */
    public static long fastCalls() {
        return FAST_CALLS.get();
    }

    /** A scope whose close throws nothing. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Every convolution of this thread takes the reference path until the returned scope closes. */
    public static Scope referenceScope() {
        int[] depth = FORCED.get();
        depth[0]++;
        return () -> depth[0]--;
    }

    /** Collects the shape of every convolution this thread runs until the returned scope closes. */
    public static Recording recording() {
        return new Recording();
    }

    /** The shapes seen while it was open, in order of first use. */
    public static final class Recording implements AutoCloseable {
        private final Set<ConvShape> previous = RECORDING.get();
        private final Set<ConvShape> shapes = new LinkedHashSet<>();

        private Recording() {
            RECORDING.set(shapes);
        }

        public Set<ConvShape> shapes() {
            return shapes;
        }

        @Override
        public void close() {
            RECORDING.set(previous);
        }
    }

    /** Test hook: a fault applied to every fast-path output (null to remove). */
    public static void injectFault(Fault f) {
        fault = f;
    }

    static Fault fault() {
        return fault;
    }
}
