package woodflow.distributed;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;

import java.util.ArrayList;
import java.util.List;

import static woodflow.core.Tensors.s;

/**
 * Gradient averaging overlapped with the backward pass, as DistributedDataParallel's reducer does it: the parameters
 * are grouped into buckets in reverse order (the order the backward produces their gradients), each parameter's
 * gradient hook copies its gradient into its bucket's slot, and a bucket whose every gradient has arrived starts its
 * all-reduce on the group's threads while the backward goes on. After the backward, {@link #finish} starts the
 * buckets still waiting, waits for all of them, and writes the averages into the parameters' gradients.
 *
 * <p>Every rank starts the same collectives in the same order: buckets strictly by index (a bucket that is ready
 * early waits for the ones before it). The last bucket, which holds the first parameters (the backward's last
 * gradients), also carries the loss and a "recompute" flag, and starts in {@link #finish}. How
 * many times each parameter's hook fires per backward is learnt from the first step, which is reduced after its
 * backward like {@link DistContext#averageGradients} (the invertible backward runs one backward per flow step, so a
 * parameter may be reached more than once). When any rank computed its gradient in a way the hooks did not follow
 * (the fast-path recompute of {@code TrainStep}, or a gradient that arrived after its bucket had started), every rank
 * averages its gradients again, without overlap, from the parameters' {@code grad()}: the result is the same as
 * without overlap in every case.
 *
 * <p>The sum of each element over the ranks is the same whatever the bucket it travels in, so the step equals the
 * one-process step to float32 rounding, as {@link DistContext#averageGradients} does.
 */
public final class GradientReducer implements AutoCloseable {
    /** DistributedDataParallel's defaults: a first bucket of 1 MB (it starts soonest), then 25 MB. */
    public static final long FIRST_BUCKET_BYTES = 1L << 20;
    public static final long BUCKET_BYTES = 25L << 20;

    private final DistContext group;
    private final List<Tensor> params;
    private final int[] bucketOf;
    private final long[] offset;
    private final List<Tensor> buckets = new ArrayList<>();
    private final List<List<Integer>> members = new ArrayList<>();
    private final List<VoidTensorHook> hooks = new ArrayList<>();
    private final int[] hookIds;

    /** Hook calls per parameter per backward, learnt on the first step (null until then). */
    private int[] expected;
    private final int[] fired;
    private final int[] pending;
    private final Work[] started;
    private final long[] startedAt;
    /** Where the loss and the redo flag sit in the last bucket. */
    private long tailOffset;
    private double headStartSeconds;
    private int nextToStart;
    private boolean armed;
    private boolean late;
    private RuntimeException hookFailure;
    private double exposedSeconds;
    private long overlapped;
    private long bucketsTotal;
    private long redone;

    /** Reduces {@code params}' gradients over {@code group}, in buckets of the given sizes (bytes of float32). */
    public GradientReducer(DistContext group, List<Tensor> params, long firstBucketBytes, long bucketBytes) {
        this.group = group;
        this.params = List.copyOf(params);
        int n = params.size();
        bucketOf = new int[n];
        offset = new long[n];
        fired = new int[n];
        hookIds = new int[n];
        members.addAll(partition(params, firstBucketBytes, bucketBytes));
        for (int b = 0; b < members.size(); b++) {
            long size = 0;
            for (int i : members.get(b)) {
                bucketOf[i] = b;
                offset[i] = size;
                size += params.get(i).numel();
            }
        }
        pending = new int[members.size()];
        started = new Work[members.size()];
        startedAt = new long[members.size()];
        try (NoGradGuard g = new NoGradGuard()) {
            for (List<Integer> m : members) {
                long elements = m.stream().mapToLong(i -> params.get(i).numel()).sum();
                // the last bucket (the first parameters: the backward's last gradients) also carries [loss, redo]
                if (m == members.get(members.size() - 1)) {
                    tailOffset = elements;
                    elements += 2;
                }
                Tensor first = params.get(m.get(0));
                buckets.add(Tensors.keep(torch.zeros(new long[] {elements}, Tensors.options(torch.ScalarType.Float)
                        .device(new org.bytedeco.pytorch.DeviceOptional(first.device())))));
            }
        }
        for (int i = 0; i < n; i++) {
            final int index = i;
            VoidTensorHook hook = new VoidTensorHook() {
                @Override
                public void call(TensorBase grad) {
                    arrived(index, grad);
                }
            };
            hook.retainReference(); // the native hook calls back into it for as long as the parameter lives
            hooks.add(hook);
            hookIds[i] = params.get(i).register_hook(hook);
        }
    }

    /**
     * The parameters' indices by bucket: in reverse order, a bucket closed when the next parameter would take it past
     * its size (the first {@code firstBucketBytes}, the others {@code bucketBytes}, in float32).
     */
    static List<List<Integer>> partition(List<Tensor> params, long firstBucketBytes, long bucketBytes) {
        List<List<Integer>> out = new ArrayList<>();
        long cap = Math.max(1, firstBucketBytes / 4);
        List<Integer> current = new ArrayList<>();
        long size = 0;
        for (int i = params.size() - 1; i >= 0; i--) {
            long numel = params.get(i).numel();
            if (size > 0 && size + numel > cap) {
                out.add(current);
                current = new ArrayList<>();
                size = 0;
                cap = Math.max(1, bucketBytes / 4);
            }
            current.add(i);
            size += numel;
        }
        out.add(current);
        return out;
    }

    /**
     * Whether overlapping can gain anything: with one bucket (a model of less than the first bucket's size) the
     * all-reduce can only start after the whole backward, so the hooks would cost without hiding anything.
     */
    public static boolean worthOverlapping(List<Tensor> params, long firstBucketBytes, long bucketBytes) {
        return partition(params, firstBucketBytes, bucketBytes).size() > 1;
    }

    /** The number of buckets (the first holds the last parameters). */
    public int bucketCount() {
        return buckets.size();
    }

    /** Before a backward whose gradients are to be reduced: clears the slots' bookkeeping and arms the hooks. */
    public void begin() {
        java.util.Arrays.fill(fired, 0);
        java.util.Arrays.fill(started, null);
        nextToStart = 0;
        late = false;
        hookFailure = null;
        if (expected != null) {
            for (int b = 0; b < members.size(); b++) {
                int sum = 0;
                for (int i : members.get(b)) sum += expected[i];
                pending[b] = sum;
            }
        }
        armed = true;
    }

    /** Stops following the backward (the rest of this step's gradient is recomputed some other way). */
    public void pause() {
        armed = false;
    }

    private void arrived(int i, TensorBase grad) {
        if (!armed) return;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            int b = bucketOf[i];
            if (started[b] != null) {
                late = true; // the bucket is already on its way: this step is averaged again after the backward
                return;
            }
            Tensor slot = buckets.get(b).narrow(0, offset[i], params.get(i).numel());
            Tensor flat = new Tensor(grad).reshape(-1);
            if (fired[i]++ == 0) slot.copy_(flat);
            else slot.add_(flat);
            if (expected != null && --pending[b] == 0) startReady();
        } catch (RuntimeException e) {
            if (hookFailure == null) hookFailure = e; // reported by finish(), on the caller's thread
        }
    }

    /**
     * Starts the buckets that are complete, in order, up to the first that is not; never the last, which waits for
     * the loss and the redo flag in {@link #finish}.
     */
    private void startReady() {
        while (nextToStart < buckets.size() - 1 && pending[nextToStart] <= 0) {
            started[nextToStart] = group.startAllreduce(buckets.get(nextToStart));
            started[nextToStart].retainReference(); // outlives the hook's scope; released by finish()
            startedAt[nextToStart] = System.nanoTime();
            nextToStart++;
            overlapped++;
        }
    }

    /**
     * After the backward (and the recompute, if any): starts the buckets not yet started, waits for all, and makes
     * every parameter's gradient the group's average. {@code loss} is this rank's (NaN when it or its gradient is not
     * finite); {@code recomputed} says this rank's gradient was made with the hooks paused.
     *
     * @return the mean loss over the ranks, NaN when any rank's was not finite (every rank then skips the step)
     */
    public double finish(double loss, boolean recomputed) {
        armed = false;
        long t0 = System.nanoTime();
        double countedByGroup = 0; // averageGradients counts its own time
        for (int b = 0; b < nextToStart; b++) headStartSeconds += (t0 - startedAt[b]) / 1e9;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            boolean calibrating = expected == null;
            if (calibrating) {
                expected = fired.clone();
            }
            boolean redo = recomputed || late || hookFailure != null;
            Tensor last = buckets.get(buckets.size() - 1);
            last.narrow(0, tailOffset, 1).fill_(s(Double.isFinite(loss) ? loss : Double.NaN));
            last.narrow(0, tailOffset + 1, 1).fill_(s(redo ? 1 : 0));
            for (int b = nextToStart; b < buckets.size(); b++) {
                for (int i : members.get(b)) {
                    if (fired[i] == 0) buckets.get(b).narrow(0, offset[i], params.get(i).numel()).zero_();
                }
                started[b] = group.startAllreduce(buckets.get(b));
                started[b].retainReference();
            }
            bucketsTotal += buckets.size();
            for (int b = 0; b < buckets.size(); b++) {
                group.waitFor(started[b], "gradient all-reduce");
                started[b].releaseReference();
                started[b] = null;
            }
            nextToStart = buckets.size();
            double[] t = Tensors.toDoubles(last.narrow(0, tailOffset, 2));
            if (t[1] > 0) {
                // some rank's gradient is not in the buckets: average the parameters' gradients instead
                redone++;
                double before = group.allreduceSeconds();
                double mean = group.averageGradients(params, loss);
                countedByGroup = group.allreduceSeconds() - before;
                return mean;
            }
            double n = group.worldSize();
            for (int b = 0; b < buckets.size(); b++) {
                Tensor flat = buckets.get(b).div_(s(n));
                for (int i : members.get(b)) {
                    Tensor grad = params.get(i).grad();
                    if (grad.defined()) grad.copy_(flat.narrow(0, offset[i], params.get(i).numel()).view(
                            Tensors.shape(params.get(i))));
                }
            }
            return t[0] / n;
        } finally {
            double seconds = (System.nanoTime() - t0) / 1e9;
            exposedSeconds += seconds;
            group.countAllreduceSeconds(seconds - countedByGroup);
        }
    }

    /**
     * What the reducer did over a run: its bucket count, the share of buckets that started during the backward, the
     * mean seconds by which those started before their backward ended (the time a collective had to run hidden
     * behind the backward; about zero with one bucket), the steps averaged again after
     * it, and the seconds the steps waited in {@link #finish} (what the backward did not hide).
     */
    public record Stats(int buckets, double overlappedShare, double meanHeadStartSeconds, long redoneSteps,
                        double exposedSeconds) {}

    public Stats stats() {
        return new Stats(bucketCount(), overlappedShare(), overlapped == 0 ? 0 : headStartSeconds / overlapped, redone,
                exposedSeconds);
    }

    /** Seconds the steps spent in {@link #finish}: the all-reduce time the backward did not hide. */
    public double exposedSeconds() {
        return exposedSeconds;
    }

    /** Steps whose gradients were averaged again after the backward (a recompute or a late gradient somewhere). */
    public long redoneSteps() {
        return redone;
    }

    /** The share of buckets that started during the backward (overlapped with it), over all steps so far. */
    public double overlappedShare() {
        return bucketsTotal == 0 ? 0 : (double) overlapped / bucketsTotal;
    }

    @Override
    public void close() {
        armed = false;
        for (int i = 0; i < params.size(); i++) params.get(i).remove_hook(hookIds[i]);
        hooks.forEach(Tensors::release);
        buckets.forEach(Tensors::release);
    }
}
