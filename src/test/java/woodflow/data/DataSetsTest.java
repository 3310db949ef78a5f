package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataSetsTest {
    @TempDir
    Path dir;

    @Test
    void embeddedDefaultsAndLimits() {
        try (Splits s = DataSets.open(DataConfig.embedded(), 3, 32)) {
            assertThat(s.train().size()).isEqualTo(10000);
            assertThat(s.test().size()).isEqualTo(1000);
            assertThat(s.train().height()).isEqualTo(32);
        }
        DataConfig small = DataConfig.embedded().withCount(100).withHoldout(20).withLimits(30, 5);
        try (Splits s = DataSets.open(small, 1, 16); Splits full = DataSets.open(small.withLimits(null, null), 1, 16)) {
            assertThat(s.train().size()).isEqualTo(30);
            assertThat(s.test().size()).isEqualTo(5);
            assertThat(s.train().image(29)).isEqualTo(full.train().image(29)); // the first N, not a sample
            assertThat(s.test().image(4)).isEqualTo(full.test().image(4));
            assertThat(s.train().describe()).startsWith("first 30 (30 images) of embedded");
        }
    }

    @Test
    void idxLayoutWithPaddingAndShapeErrors() throws Exception {
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), TestFiles.gzip(TestFiles.idx(5, 28, 28)));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), TestFiles.idx(2, 28, 28));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 1, 32)) {
            assertThat(s.train().size()).isEqualTo(5);
            assertThat(s.test().size()).isEqualTo(2);
        }
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 1, 28)) {
            assertThat(s.train().width()).isEqualTo(28);
        }
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 3, 32))
                .hasMessageContaining("images are 1x32x32 but the model expects 3x32x32");
        // data.size pads to 32 while the model wants 28
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()).withSize(32), 1, 28))
                .hasMessageContaining("images are 1x32x32 but the model expects 1x28x28");
        Files.delete(dir.resolve("t10k-images-idx3-ubyte"));
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 1, 32))
                .hasMessageContaining("t10k-images-idx3-ubyte: file not found");
    }

    @Test
    void emptyTestSetIsAnErrorUnlessTheLimitIsZero() throws Exception {
        Files.write(dir.resolve("train-images-idx3-ubyte"), TestFiles.idx(3, 28, 28));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), TestFiles.idx(0, 28, 28));
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 1, 32))
                .hasMessageContaining("the test set is empty");
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()).withLimits(null, 0), 1, 32)) {
            assertThat(s.test().size()).isZero();
        }
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()).withLimits(0, 0), 1, 32))
                .hasMessageContaining("the training set is empty").hasMessageContaining("data.train_limit");
    }

    @Test
    void configurationErrors() {
        assertThatThrownBy(() -> DataKind.parse("tfrecord"))
                .hasMessageContaining("unknown data.kind 'tfrecord'");
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CIFAR10, null), 3, 32))
                .hasMessageContaining("data.path is required for kind cifar10");
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CIFAR10, missing.toString()), 3, 32))
                .hasMessageContaining(missing + ": CIFAR-10 directory not found");
        assertThatThrownBy(() -> DataSets.open(DataConfig.embedded().withLimits(-1, null), 3, 32))
                .hasMessageContaining("must not be negative");
    }

    @Test
    void folderWithoutSubfoldersGetsASeededHoldout() throws Exception {
        for (int i = 0; i < 20; i++) TestFiles.write(TestFiles.solid(10, 12, i, 0, 0), "png", dir.resolve("p" + i + ".png"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, dir.toString()), 3, 8)) {
            assertThat(s.test().size()).isEqualTo(2); // a tenth
            assertThat(s.train().size()).isEqualTo(18);
            assertThat(s.holdout()).hasSize(2);
        }
    }

    @Test
    void naturalShapeForInspection() throws Exception {
        try (Splits s = DataSets.open(DataConfig.embedded().withCount(4).withHoldout(2))) {
            assertThat(new int[] {s.train().channels(), s.train().height()}).containsExactly(3, 32);
        }
        Files.write(dir.resolve("train-images-idx3-ubyte"), TestFiles.idx(3, 28, 28));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), TestFiles.idx(1, 28, 28));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FASHION_MNIST, dir.toString()))) {
            assertThat(new int[] {s.train().channels(), s.train().height()}).containsExactly(1, 32);
        }
    }
}
