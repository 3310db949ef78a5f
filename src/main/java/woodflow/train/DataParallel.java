package woodflow.train;

import org.bytedeco.pytorch.Tensor;
import woodflow.data.ImageSource;
import woodflow.distributed.DistContext;
import woodflow.distributed.GradientReducer;
import woodflow.model.MultiScaleFlow;

import java.util.List;

/**
 * This process as one rank of a data-parallel group while it trains ({@link DistContext}): its rows of every global
 * batch, its part in every step's gradients, and the group's sum of a sharded evaluation. The trainer and the
 * training benchmark take part in a group through it, so both make the same choice of how the gradients are shared:
 * <pre>
 *   overlap on and more than one bucket   a {@link GradientReducer}: each bucket's all-reduce starts from the
 *                                         backward's gradient hooks, as DistributedDataParallel's
 *   otherwise                             one averaging of all gradients after the backward (the same numbers)
 * </pre>
 */
public final class DataParallel implements AutoCloseable {
    private final DistContext group;
    private GradientReducer reducer;
    private GradientReducer.Stats stats;

    public DataParallel(DistContext group) {
        this.group = group;
    }

    public DistContext group() {
        return group;
    }

    public int rank() {
        return group.rank();
    }

    public int worldSize() {
        return group.worldSize();
    }

    /**
     * Makes {@code step} this rank's part of a group step: it takes rows {@code [rank b, (rank + 1) b)} of each global
     * batch with their share of its noise, and its gradients become the group's mean, through buckets of the given
     * sizes (bytes of float32) that start during the backward when {@code overlap} and when there is more than one.
     */
    public void join(TrainStep step, boolean overlap, long firstBucketBytes, long bucketBytes) {
        List<Tensor> params = step.model().parameters();
        step.shard(group.rank(), group.worldSize());
        if (overlap && GradientReducer.worthOverlapping(params, firstBucketBytes, bucketBytes)) {
            reducer = new GradientReducer(group, params, firstBucketBytes, bucketBytes);
            step.onGradients(TrainStep.GradientSync.overlapping(reducer));
        } else {
            step.onGradients(TrainStep.GradientSync.afterBackward(group, params));
        }
    }

    /** The overlapping reducer of the joined step, or null (gradients averaged after the backward). */
    public GradientReducer reducer() {
        return reducer;
    }

    /** This rank's rows of a global batch. */
    public <T> List<T> rowsOf(List<T> global) {
        int b = global.size() / group.worldSize();
        return global.subList(group.rank() * b, (group.rank() + 1) * b);
    }

    /** This rank's rows of a global batch's class labels. */
    public int[] rowsOf(int[] global) {
        int b = global.length / worldSize();
        return java.util.Arrays.copyOfRange(global, rank() * b, (rank() + 1) * b);
    }

    /**
     * The mean test bpd over the group: each rank evaluates batch k of {@link Evaluator#bitsPerDim} when
     * {@code k mod worldSize} is its rank, and the sums and counts are added up over the group.
     */
    public double meanBitsPerDim(MultiScaleFlow model, ImageSource test, int nBits, int evalBatch, long evalSeed) {
        double[] b = Evaluator.bitsPerDim(model, test, test.size(), nBits, evalBatch, evalSeed, group.rank(),
                group.worldSize());
        double sum = 0;
        int count = 0;
        for (int start = 0, k = 0; start < b.length; start += evalBatch, k++) {
            if (k % group.worldSize() != group.rank()) continue;
            for (int i = start; i < Math.min(b.length, start + evalBatch); i++) {
                sum += b[i];
                count++;
            }
        }
        double[] total = group.sum(sum, count);
        return total[0] / total[1];
    }

    /** What the overlapping reducer did, once closed; null before, or when gradients were averaged after the backward. */
    public GradientReducer.Stats stats() {
        return stats;
    }

    /** Ends the step's part in the group: the reducer's hooks are removed and its figures kept ({@link #stats}). */
    @Override
    public void close() {
        if (reducer != null) {
            stats = reducer.stats();
            reducer.close();
            reducer = null;
        }
    }
}
