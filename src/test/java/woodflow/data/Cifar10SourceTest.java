package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Cifar10SourceTest {
    @TempDir
    Path dir;

    private void writeAll(Path d, int perBatch) throws Exception {
        Files.createDirectories(d);
        for (int i = 1; i <= 5; i++) Files.write(d.resolve("data_batch_" + i + ".bin"), TestFiles.cifar(perBatch));
        Files.write(d.resolve("test_batch.bin"), TestFiles.cifar(3));
    }

    @Test
    void recordsAreRgbPlanesAfterTheLabelByte() throws Exception {
        Path f = dir.resolve("data_batch_1.bin");
        Files.write(f, TestFiles.cifar(4));
        Cifar10Source s = new Cifar10Source(List.of(f));
        assertThat(s.size()).isEqualTo(4);
        byte[] im = s.image(2);
        assertThat(im).hasSize(3072);
        // record 2, channel c, pixel i holds (2 + 3c + i) mod 256: the label byte is not part of the image
        assertThat(im[0] & 255).isEqualTo(2);
        assertThat(im[1024 + 5] & 255).isEqualTo(2 + 3 + 5);
        assertThat(im[2048 + 1023] & 255).isEqualTo((2 + 6 + 1023) % 256);
    }

    @Test
    void trainingSetSpansFiveBatchesInOrder() throws Exception {
        Path d = dir.resolve("cifar-10-batches-bin");
        writeAll(d, 2);
        try (Splits s = DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 3, 32)) {
            assertThat(s.train().size()).isEqualTo(10);
            assertThat(s.test().size()).isEqualTo(3);
            // image 7 is record 1 of data_batch_4
            assertThat(s.train().image(7)).isEqualTo(new Cifar10Source(List.of(d.resolve("data_batch_4.bin"))).image(1));
        }
    }

    @Test
    void lengthNotAMultipleOfTheRecordNamesFileAndLength() throws Exception {
        Path f = dir.resolve("data_batch_1.bin");
        byte[] b = TestFiles.cifar(2);
        Files.write(f, Arrays.copyOf(b, b.length - 7));
        assertThatThrownBy(() -> new Cifar10Source(List.of(f))).isInstanceOf(DataException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("length " + (b.length - 7))
                .hasMessageContaining("not a multiple of 3073");
    }

    @Test
    void missingBatchIsNamed() throws Exception {
        writeAll(dir, 1);
        Files.delete(dir.resolve("data_batch_3.bin"));
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 3, 32))
                .hasMessageContaining("data_batch_3.bin").hasMessageContaining("not found");
    }

    @Test
    void greyModelOnCifarIsAShapeError() throws Exception {
        writeAll(dir, 1);
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 1, 32))
                .hasMessageContaining("images are 3x32x32 but the model expects 1x32x32");
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.CIFAR10, dir.toString()), 3, 64))
                .hasMessageContaining("but the model expects 3x64x64");
    }
}
