package woodflow.core;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * Two pieces of work (the two halves of a batch) run at once on two threads, each with half of this process's
 * libtorch threads (one each on two cores), instead of one piece after the other with every operation split across
 * the threads. A training step's forward and backward, sampling and the measurement of the machine's peak run so.
 *
 * <p>Why: a small model's step is some two thousand operations, most on tensors below ATen's grain size, so with
 * intra-op threads the second core idles through most of them while every parallel one still pays for a barrier.
 * Two halves keep both cores busy on everything, the per-operation costs included. And no parallel region spans the
 * two threads: on a busy host a core lost to another process for a while delays one half, where with intra-op
 * threads every barrier waits for it (measured on a 2-core Intel Xeon shared with four builds: a config a training
 * step took 1.6-3.4 s with two intra-op threads and 0.25-0.3 s as two halves).
 *
 * <p>libtorch's thread count is per thread (OpenMP's): each half's thread sets its own once, when it starts, and
 * the calling thread's is left alone. {@value #ENV}{@code =off} keeps everything on the calling thread.
 */
public final class Halves {
    /** Environment override: {@code off} runs the whole batch on the calling thread (intra-op threads), {@code on}. */
    public static final String ENV = "WOODFLOW_BATCH_HALVES";

    /** One pair of threads per process and thread count, shared by every caller (idle threads cost nothing). */
    private static final Map<Integer, Halves> SHARED = new ConcurrentHashMap<>();

    private final int threadsPerHalf;
    private final ExecutorService pool;

    private Halves(int threadsPerHalf) {
        this.threadsPerHalf = threadsPerHalf;
        java.util.concurrent.CountDownLatch set = new java.util.concurrent.CountDownLatch(2);
        ThreadPoolExecutor p = (ThreadPoolExecutor) Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(() -> {
                torch.set_num_threads(threadsPerHalf);
                set.countDown();
                r.run();
            }, "woodflow-half");
            t.setDaemon(true);
            return t;
        });
        // libtorch also keeps the last count set anywhere as the one a new thread starts with: once both halves' threads
        // have set theirs, the caller's is set again, so threads started later (a server's worker, say) still get all
        int callers = torch.get_num_threads();
        p.prestartAllCoreThreads();
        try {
            set.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        torch.set_num_threads(callers);
        this.pool = p;
    }

    /**
     * The halves of this process: present where libtorch has at least two threads on the calling thread, unless
     * {@value #ENV} says {@code off}; null for the whole batch on the calling thread.
     */
    public static Halves forThisProcess() {
        return choose(System.getenv(ENV), torch.get_num_threads());
    }

    /** The halves for an override ({@code on}, {@code off}, or null/blank: on) and a thread count. */
    public static Halves choose(String override, int threads) {
        boolean on;
        if (override == null || override.isBlank()) {
            on = true;
        } else {
            String o = override.strip().toLowerCase(Locale.ROOT);
            if (!o.equals("on") && !o.equals("off")) {
                throw new IllegalArgumentException(ENV + "=" + override + " is not a choice: use on (two batch halves "
                        + "on two threads, the default with two or more threads) or off (the whole batch, intra-op "
                        + "threads), or unset it");
            }
            on = o.equals("on");
        }
        return on && threads >= 2 ? SHARED.computeIfAbsent(threads / 2, Halves::new) : null;
    }

    /**
     * The rows of the first half of {@code rows} (at least 3): never the same as the second half's. oneDNN caches one
     * primitive per shape, so two equal halves run one primitive on two threads at once, and on an AMD EPYC Zen 5
     * (libtorch 2.10's oneDNN 3.7.1, its AVX-512 brgemm convolutions) that crashed the process in 5 of 12
     * `bench train --preset yardstick-a` runs (a SIGSEGV in the backward's brgemm_convolution_fwd_t::init_batch),
     * against 0 of 12 with halves of 17 and 15 rows (0 of 6, and 0 of 6 with the whole batch on one thread). Halves
     * of different sizes each get their own primitives.
     */
    public static long firstRows(long rows) {
        if (rows < MIN_ROWS) throw new IllegalArgumentException("two unequal halves need at least " + MIN_ROWS + " rows");
        return rows / 2 + 1;
    }

    /** The fewest rows that split into two unequal, non-empty halves ({@link #firstRows}). */
    public static final long MIN_ROWS = 3;

    public int threadsPerHalf() {
        return threadsPerHalf;
    }

    /** Runs {@code first} and {@code second} at once, each on its own thread inside its own pointer scope. */
    public <T> T[] run(Callable<T> first, Callable<T> second, java.util.function.IntFunction<T[]> array) {
        Future<T> a = pool.submit(() -> inScope(first));
        Future<T> b = pool.submit(() -> inScope(second));
        T[] out = array.apply(2);
        try {
            out[0] = a.get();
            out[1] = b.get();
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the two halves ran", e);
        } catch (ExecutionException e) {
            try {
                // the other half still uses tensors of the caller's scope: let it finish first
                b.get();
            } catch (InterruptedException | ExecutionException ignored) {
                // the first failure is the one reported
            }
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }

    /**
     * Runs two tensor computations at once and returns their results in the caller's pointer scope (each half's
     * temporaries are freed in its own).
     */
    public org.bytedeco.pytorch.Tensor[] tensors(java.util.function.Supplier<org.bytedeco.pytorch.Tensor> first,
                                                 java.util.function.Supplier<org.bytedeco.pytorch.Tensor> second) {
        org.bytedeco.pytorch.Tensor[] kept = run(() -> Tensors.keep(first.get()), () -> Tensors.keep(second.get()),
                org.bytedeco.pytorch.Tensor[]::new);
        return new org.bytedeco.pytorch.Tensor[] {Tensors.handOut(kept[0]), Tensors.handOut(kept[1])};
    }

    private static <T> T inScope(Callable<T> work) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            return work.call();
        }
    }

    /** e.g. {@code two batch halves on two threads, 1 libtorch thread each}. */
    public String describe() {
        return String.format(Locale.ROOT, "two batch halves on two threads, %d libtorch thread%s each",
                threadsPerHalf, threadsPerHalf == 1 ? "" : "s");
    }
}
