package woodflow.model;

import woodflow.model.CouplingType;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.data.Quantization;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each baseline (emerging and periodic convolutions, spline and MaCow couplings) inside a tiny Glow learns: 200
 * Adam steps (lr 1e-3) on 8-bit blob images give finite bits per dimension that fall, and samples at temperature
 * 0.7 are finite.
 */
class BaselineTrainingTest {
    static final int ITERATIONS = 200;
    static final int BATCH = 16;
    static final int SIZE = 8;

    private static int torchThreads;

    /**
     * One thread for libtorch and OpenBLAS while these tests run: on 8x8 images an op costs microseconds, and a second
     * intra-op or BLAS thread only adds hand-offs, which on a busy machine wait for a time slice each (measured here
     * under load: a batched 8x8 slogdet backward took 75-145 ms with OpenBLAS's default threads, 0.15 ms with one).
     */
    @BeforeAll
    static void singleThreaded() {
        Tensors.load();
        torchThreads = torch.get_num_threads();
        torch.set_num_threads(1);
    }

    @AfterAll
    static void restoreThreads() {
        torch.set_num_threads(torchThreads);
    }

    /** {@code n} 1 x 8 x 8 images of the embedded data set (coloured shapes drawn from a seed, here in grey). */
    static Tensor embedded(int n) {
        woodflow.data.EmbeddedSource src = new woodflow.data.EmbeddedSource(n, 1, SIZE, 7, 0);
        List<byte[]> images = new ArrayList<>();
        for (int k = 0; k < n; k++) images.add(src.image(k));
        return Quantization.stack(images, 1, SIZE, SIZE);
    }

    @ParameterizedTest(name = "{0} + {1}")
    @CsvSource({"emerging, affine", "periodic, affine", "conv1x1-lu, spline", "conv1x1-lu, macow"})
    void tinyModelTrainsAndSamples(String permutation, String coupling) {
        torch.manual_seed(81);
        ModelConfig cfg = ModelConfig.of(1, SIZE, SIZE, 2, 1, 16, Permutation.parse(permutation))
                .withCoupling(CouplingType.parse(coupling));
        MultiScaleFlow model = new MultiScaleFlow(cfg, Init.float32());
        Tensor data = Tensors.keep(embedded(256));
        TensorVector params = new TensorVector(model.parameters().toArray(new Tensor[0]));
        Adam adam = new Adam(params, new AdamOptions(1e-3));
        double[] losses = new double[ITERATIONS];
        for (int it = 0; it < ITERATIONS; it++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor batch = data.narrow(0, (long) (it * BATCH) % 256, BATCH);
                Tensor x = Quantization.dequantize(batch, 8);
                adam.zero_grad();
                Tensor loss = model.bitsPerDim(x, 256).mean();
                loss.backward();
                adam.step();
                losses[it] = loss.item_double();
            }
        }
        System.out.printf("%s + %s: bpd %.3f (first 20) -> %.3f (last 20)%n", permutation, coupling,
                mean(losses, 0, 20), mean(losses, ITERATIONS - 20, ITERATIONS));
        for (int it = 0; it < ITERATIONS; it++) assertThat(losses[it]).as("bpd at step " + it).isFinite();
        double first = mean(losses, 0, 20), last = mean(losses, ITERATIONS - 20, ITERATIONS);
        assertThat(last).as("mean bpd of the last 20 steps (first 20: %.3f)", first).isLessThan(first - 0.5);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor samples = model.sample(8, 0.7);
            assertThat(Tensors.shape(samples)).containsExactly(8, 1, SIZE, SIZE);
            assertThat(Tensors.allFinite(samples)).as("samples at T = 0.7 are finite").isTrue();
        }
        Tensors.release(data);
        adam.close();
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / (to - from);
    }
}
