package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Class labels where the formats record them: IDX label files, CIFAR-10's label byte, class sub-folders, the
 * embedded shapes; through limits, caches and the batch stream.
 */
class ClassLabelsTest {
    @TempDir
    Path dir;

    /** An IDX1 label file: magic 0x00000801, big-endian N, then one byte per image. */
    static byte[] idxLabels(int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(0x00000801).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    @Test
    void idxLabelFilesBesideTheImagesNameTheClasses() throws Exception {
        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), TestFiles.gzip(TestFiles.idx(4, 28, 28)));
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), TestFiles.idx(2, 28, 28));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), TestFiles.gzip(idxLabels(9, 0, 3, 9)));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(1, 2));
        DataConfig cfg = DataConfig.of(DataKind.FASHION_MNIST, dir.toString()).withLimits(3, null);
        try (Splits s = DataSets.open(cfg, 1, 32)) {
            ClassLabels l = s.train().labels().orElseThrow();
            assertThat(l.names()).isEqualTo(DataKind.FASHION_MNIST_CLASSES);
            assertThat(l.labels(new int[] {0, 1, 2})).containsExactly(9, 0, 3);
            assertThat(l.names().get(9)).isEqualTo("ankle-boot");
            assertThat(s.test().labels().orElseThrow().labels(new int[] {0, 1})).containsExactly(1, 2);
        }
        // plain IDX: the labels are their numbers
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IDX, dir.toString()), 1, 32)) {
            assertThat(s.train().labels().orElseThrow().names()).containsExactly("0", "1", "2", "3", "4", "5", "6",
                    "7", "8", "9");
        }
        // a label file that does not belong to the images is named when the labels are used, not before
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idxLabels(1, 2, 3));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FASHION_MNIST, dir.toString()), 1, 32)) {
            ClassLabels l = s.test().labels().orElseThrow();
            assertThatThrownBy(() -> l.label(0)).hasMessageContaining("t10k-labels-idx1-ubyte: holds 3 labels but its "
                    + "image file holds 2 images");
        }
        // no label file: no labels, and images still load
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FASHION_MNIST, dir.toString()), 1, 32)) {
            assertThat(s.test().labels()).isEmpty();
            assertThat(s.test().size()).isEqualTo(2);
        }
    }

    @Test
    void realFashionMnistLabels() {
        assumeTrue(Files.exists(DataSets.FASHION_MNIST.resolve("train-labels-idx1-ubyte.gz")),
                "Debian's dataset-fashion-mnist is not installed");
        DataConfig cfg = DataConfig.of(DataKind.FASHION_MNIST, null).withLimits(1000, 1000);
        try (Splits s = DataSets.open(cfg, 1, 32)) {
            ClassLabels l = s.train().labels().orElseThrow();
            int[] counts = new int[10];
            for (int i = 0; i < 1000; i++) counts[l.label(i)]++;
            for (int c : counts) assertThat(c).isBetween(60, 140); // ten balanced classes
            assertThat(l.label(0)).isEqualTo(9); // the first training image is an ankle boot
        }
    }

    @Test
    void cifarLabelBytesAndTheirNames() throws Exception {
        for (int i = 1; i <= 5; i++) Files.write(dir.resolve("data_batch_" + i + ".bin"), TestFiles.cifar(3));
        Files.write(dir.resolve("test_batch.bin"), TestFiles.cifar(12));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 3, 32)) {
            ClassLabels l = s.train().labels().orElseThrow();
            assertThat(l.names()).hasSize(10).startsWith("airplane", "automobile");
            assertThat(l.labels(new int[] {0, 1, 2, 3, 14})).containsExactly(0, 1, 2, 0, 2);
            assertThat(s.test().labels().orElseThrow().label(11)).isEqualTo(1);
        }
        Files.write(dir.resolve("batches.meta.txt"), List.of("plane", "car", "Bird Cage", "", "cat", "deer", "dog", "frog",
                "horse", "ship", "truck"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 3, 32)) {
            assertThat(s.train().labels().orElseThrow().names()).startsWith("plane", "car", "bird-cage", "cat");
        }
    }

    @Test
    void classSubFoldersOfAnImageFolder() throws Exception {
        for (String split : List.of("train", "test")) {
            for (String c : List.of("cats", "dogs")) {
                Files.createDirectories(dir.resolve(split).resolve(c));
                for (int i = 0; i < 2; i++) {
                    TestFiles.write(TestFiles.solid(20, 20, c.equals("cats") ? 200 : 10, 10, 10 * i), "png",
                            dir.resolve(split).resolve(c).resolve("img" + i + ".png"));
                }
            }
        }
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, dir.toString()), 3, 8)) {
            ClassLabels l = s.train().labels().orElseThrow();
            assertThat(l.names()).containsExactly("cats", "dogs");
            assertThat(l.labels(new int[] {0, 1, 2, 3})).containsExactly(0, 0, 1, 1);
            assertThat(s.test().labels().orElseThrow().label(3)).isEqualTo(1);
        }
        // a test image of a class the training images lack is named
        Files.createDirectories(dir.resolve("test/birds"));
        TestFiles.write(TestFiles.solid(20, 20, 1, 2, 3), "png", dir.resolve("test/birds/b.png"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, dir.toString()), 3, 8)) {
            ClassLabels l = s.test().labels().orElseThrow();
            assertThatThrownBy(() -> l.label(0)).hasMessageContaining("birds, which is not one of the classes");
        }
        // one folder with a seeded hold-out: the sub-folders are the classes of both parts
        Path one = dir.resolve("train");
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, one.toString()).withHoldout(1), 3, 8)) {
            assertThat(s.train().labels().orElseThrow().names()).containsExactly("cats", "dogs");
            assertThat(s.test().labels().orElseThrow().label(0)).isBetween(0, 1);
        }
        // images without sub-folders: no labels
        Path flat = Files.createDirectories(dir.resolve("flat"));
        for (int i = 0; i < 3; i++) TestFiles.write(TestFiles.solid(9, 9, i, i, i), "png", flat.resolve(i + ".png"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, flat.toString()).withHoldout(1), 3, 8)) {
            assertThat(s.train().labels()).isEmpty();
        }
    }

    @Test
    void labelsSurviveLimitsCachesAndTheBatchStream() throws Exception {
        DataConfig cfg = DataConfig.embedded().withStyle(EmbeddedStyle.SHAPES).withCount(40).withHoldout(8)
                .withLimits(30, null).withCache(dir.resolve("cache").toString());
        try (Splits s = DataSets.open(cfg, 3, 8)) {
            assertThat(s.train()).isInstanceOf(CachedSource.class);
            ClassLabels l = s.train().labels().orElseThrow();
            assertThat(l.names()).containsExactly("disc", "square", "ring");
            ShapeSource raw = new ShapeSource(40, 3, 8, 0, 0);
            for (int i = 0; i < 30; i++) assertThat(l.label(i)).isEqualTo(ShapeSource.kindOf(raw.label(i)).ordinal());
            try (BatchStream stream = BatchStream.shuffled(s.train(), 7, 5, 0, 2, 4, true)) {
                for (int k = 0; k < 6; k++) {
                    BatchStream.Batch b = stream.next();
                    assertThat(b.labels()).hasSize(7);
                    for (int i = 0; i < 7; i++) assertThat(b.labels()[i]).isEqualTo(l.label(b.indices()[i]));
                }
            }
            try (BatchStream stream = BatchStream.shuffled(s.train(), 7, 5, 0, 0, 4)) {
                assertThat(stream.next().labels()).isNull();
            }
        }
        // the scenes have no labels: a stream that needs them says so
        try (Splits s = DataSets.open(DataConfig.embedded().withCount(10).withHoldout(2), 3, 8)) {
            assertThat(s.train().labels()).isEmpty();
            assertThatThrownBy(() -> BatchStream.shuffled(s.train(), 2, 0, 0, 0, 1, true))
                    .hasMessageContaining("has no class labels");
        }
    }
}
