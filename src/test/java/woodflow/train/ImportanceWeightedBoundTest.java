package woodflow.train;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.data.ArraySource;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;
import woodflow.model.Permutation;
import woodflow.model.VariationalDequantizer;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static woodflow.core.Tensors.s;

/**
 * {@code eval --samples K} (docs/FORMULAS.md, "Importance-weighted bound"), for uniform and variational dequantisation:
 * with the same noise draws the K-sample bound of every image is at most the mean of its K one-sample figures
 * (Jensen, exactly) and equal to the one-sample figure for K = 1; the streamed log-sum-exp is the brute-force one; and
 * memory does not grow with K: the evaluation holds the same number of live tensors at every forward whatever K is,
 * and never runs a batch of more than the evaluation's batch size (no K copies stacked into one batch).
 */
class ImportanceWeightedBoundTest {
    static final int IMAGES = 20;
    static final int BATCH = 8;
    static final int BITS = 8;
    static final long SEED = 4321;

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    /** A tiny 1x8x8 model with random parameters (ActNorm initialised on real images), uniform or variational. */
    static MultiScaleFlow model(String dequantization, ArraySource images) {
        torch.manual_seed(5);
        ModelConfig cfg = ModelConfig.of(1, 8, 8, 2, 1, 8, Permutation.WOODBURY)
                .withLatentDims(new int[] {2, 2}, new int[] {2, 2}, null, null);
        MultiScaleFlow m = new MultiScaleFlow(cfg, dequantization.equals("variational")
                ? new VariationalDequantizer.Spec(2, 4) : null, Init.float32());
        Evaluator.bitsPerDim(m, images, BATCH, BITS, BATCH, 1); // ActNorm's initialisation
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor p : m.parameters()) p.add_(torch.randn_like(p).mul(s(0.05)));
        }
        m.train(false);
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"uniform", "variational"})
    void theBoundIsAtMostTheMeanOfTheSameDrawsAndEqualForOneSample(String dequantization) {
        ArraySource images = TestData.squares(IMAGES, 3);
        MultiScaleFlow m = model(dequantization, images);
        int k = 6;
        ImportanceWeightedBound.Result r = ImportanceWeightedBound.evaluate(m, images, IMAGES, BITS, BATCH, SEED, k,
                null);
        // the K one-sample figures of every image, drawn as the bound draws them, held here to check against
        double[][] draws = new double[k][];
        for (int j = 0; j < k; j++) {
            draws[j] = Evaluator.bitsPerDim(m, images, IMAGES, BITS, BATCH, ImportanceWeightedBound.drawSeed(SEED, j));
        }
        assertThat(r.oneSample()).as("draw 0 is the one-sample evaluation").containsExactly(draws[0]);
        double c = 64 * Math.log(2);
        for (int i = 0; i < IMAGES; i++) {
            double mean = 0, max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                mean += draws[j][i] / k;
                max = Math.max(max, -c * draws[j][i]);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(-c * draws[j][i] - max);
            double bruteForce = -(max + Math.log(sum / k)) / c;
            assertThat(r.meanOfSamples()[i]).as("image %d: mean of the draws", i).isCloseTo(mean, within(1e-12));
            assertThat(r.bound()[i]).as("image %d: streamed bound = log-mean-exp of all draws", i)
                    .isCloseTo(bruteForce, within(1e-12 * Math.abs(bruteForce)));
            assertThat(r.bound()[i]).as("image %d: Jensen", i).isLessThanOrEqualTo(r.meanOfSamples()[i]);
        }
        assertThat(r.boundBpd()).as("the draws differ, so the bound is strictly lower").isLessThan(r.meanOfSamplesBpd());

        ImportanceWeightedBound.Result one = ImportanceWeightedBound.evaluate(m, images, IMAGES, BITS, BATCH, SEED, 1,
                null);
        assertThat(one.bound()).as("K = 1").containsExactly(one.oneSample());
        assertThat(one.meanOfSamples()).containsExactly(one.oneSample());
        assertThat(one.oneSample()).containsExactly(draws[0]);
    }

    /**
     * At every forward, the number of live native objects (JavaCPP's count of pointers it will free: every tensor
     * handle) is the same for K = 2 and K = 12; an evaluation that kept each draw's figures, noise or outputs until
     * the end would hold at least 10 more at its last forwards. Every forward takes at most one batch of images.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"uniform", "variational"})
    void memoryDoesNotGrowWithTheNumberOfSamples(String dequantization) {
        ArraySource images = TestData.squares(IMAGES, 4);
        MultiScaleFlow m = model(dequantization, images);
        long[] peak = new long[2];
        int[] forwards = new int[2];
        int[] samples = {2, 12};
        for (int run = 0; run < 2; run++) {
            int index = run;
            List<Long> rows = new ArrayList<>();
            try (PointerScope scope = new PointerScope()) {
                ImportanceWeightedBound.evaluate(m, images, IMAGES, BITS, BATCH, SEED, samples[run], null, x -> {
                    peak[index] = Math.max(peak[index], Pointer.totalCount());
                    forwards[index]++;
                    rows.add(x.size(0));
                });
            }
            assertThat(rows).as("K = %d: images per forward", samples[run]).allMatch(n -> n <= BATCH);
        }
        int batches = (IMAGES + BATCH - 1) / BATCH;
        assertThat(forwards).containsExactly(2 * batches, 12 * batches);
        assertThat(peak[1]).as("live native objects at a forward, K = 12 against K = 2 (%d)", peak[0])
                .isLessThanOrEqualTo(peak[0] + 2);
    }
}
