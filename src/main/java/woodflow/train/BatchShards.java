package woodflow.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * A training step's forward and backward run as two halves of the batch on two threads, each half with half the
 * libtorch threads (one each on two cores), instead of the whole batch with every operation split across the
 * threads.
 *
 * <p>Why: a small model's step is some two thousand operations, most on tensors below ATen's grain size, so with
 * intra-op threads the second core idles through most of them while every parallel one still pays for a barrier.
 * Two halves keep both cores busy on everything, the per-operation costs included; and since no parallel region
 * spans the two threads, a core lost to another process for a while delays one half instead of stalling every
 * barrier (with two intra-op threads on a busy 2-core host a config a step went from 0.06 s to 1.6-3 s).
 *
 * <p>The numbers: each half's loss is its images' bpd summed and divided by the whole batch's size, so the two losses
 * add up to the batch mean and the two backwards accumulate the batch's gradient into the parameters. With two
 * halves the accumulation is {@code g_a + g_b} in whichever order the halves finish, and floating-point addition of
 * two terms is commutative: the step is deterministic. It differs from the whole-batch gradient by the rounding of
 * the per-parameter sums over the batch (split in two partial sums), as a different thread count does.
 */
final class BatchShards {
    /** Environment override: {@code WOODFLOW_STEP_SHARDS=1} keeps the whole batch on one thread group, 2 splits. */
    static final String ENV = "WOODFLOW_STEP_SHARDS";

    /** One pair of threads per process and thread count, shared by every step (idle threads cost nothing). */
    private static final java.util.Map<Integer, BatchShards> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

    private final int threadsPerShard;
    private final ExecutorService pool;

    private BatchShards(int threadsPerShard) {
        this.threadsPerShard = threadsPerShard;
        this.pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(() -> {
                // libtorch's thread count is per thread (OpenMP's): each half runs with its share
                torch.set_num_threads(this.threadsPerShard);
                r.run();
            }, "woodflow-step-half");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Two halves when libtorch has at least two threads here (each half gets half of them), unless
     * {@value #ENV} says otherwise; null for the whole batch on the calling thread.
     */
    static BatchShards forThisProcess() {
        return choose(System.getenv(ENV), torch.get_num_threads());
    }

    static BatchShards choose(String override, int threads) {
        int shards;
        if (override == null || override.isBlank()) {
            shards = threads >= 2 ? 2 : 1;
        } else {
            try {
                shards = Integer.parseInt(override.strip());
            } catch (NumberFormatException e) {
                shards = -1;
            }
            if (shards != 1 && shards != 2) {
                throw new IllegalArgumentException(ENV + "=" + override + " is not a number of batch shards: use 1 "
                        + "(the whole batch, intra-op threads) or 2 (two halves on two threads), or unset it");
            }
        }
        return shards == 2 && threads >= 2 ? SHARED.computeIfAbsent(threads / 2, BatchShards::new) : null;
    }

    /** One half's result: its share of the loss (NaN when not finite) and when its forward ended. */
    record Half(double loss, long forwardEnd) {}

    /**
     * Runs {@code half} on rows {@code [0, b/2)} and {@code [b/2, b)} of {@code x} at once, each on its own thread, and
     * returns the two results in row order. {@code half} gets the rows and the whole batch's size.
     */
    Half[] run(Tensor x, Function<Tensor, Half> half) {
        long b = x.size(0), first = b / 2;
        Tensor a = x.narrow(0, 0, first), c = x.narrow(0, first, b - first);
        Future<Half> fa = pool.submit(() -> inScope(a, half));
        Future<Half> fc = pool.submit(() -> inScope(c, half));
        try {
            return new Half[] {fa.get(), fc.get()};
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the batch halves ran", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }

    private static Half inScope(Tensor rows, Function<Tensor, Half> half) {
        try (PointerScope scope = new PointerScope()) {
            return half.apply(rows);
        }
    }

    String describe() {
        return String.format(Locale.ROOT, "two batch halves on two threads, %d libtorch thread%s each",
                threadsPerShard, threadsPerShard == 1 ? "" : "s");
    }
}
