package woodflow.bench;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;
import woodflow.data.DataConfig;
import woodflow.data.DataSets;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Benchmarks time real batches of the config's data set, or the embedded images when it is absent; never noise. */
class BenchDataTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void yardstickATrainsOnFashionMnist() {
        assumeTrue(Files.isDirectory(DataSets.FASHION_MNIST), "Debian's dataset-fashion-mnist is not installed");
        BenchData d = BenchData.load(Presets.load("yardstick-a"), 32, 64);
        assertThat(d.images().sizes().vec().get()).containsExactly(64, 1, 32, 32);
        assertThat(d.source()).contains("fashion-mnist");
        // the two-pixel padding and the black backgrounds: far more zeros than the 1 in 256 of uniform noise
        double zeros = d.images().eq(Tensors.s(0)).to(org.bytedeco.pytorch.global.torch.ScalarType.Float).mean()
                .item_double();
        assertThat(zeros).isGreaterThan(0.2);
    }

    @Test
    void anAbsentDataSetFallsBackToTheEmbeddedImagesAndSaysSo() {
        RunConfig c = Presets.load("yardstick-c");
        c = c.withData(DataConfig.of(woodflow.data.DataKind.CIFAR10, "/nonexistent/cifar"));
        BenchData d = BenchData.load(c, 16, 20);
        Tensor x = d.images();
        assertThat(x.size(0)).isEqualTo(32);
        assertThat(d.source()).contains("embedded").contains("cifar10");
    }
}
