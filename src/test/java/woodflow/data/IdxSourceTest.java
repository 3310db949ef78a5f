package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IdxSourceTest {
    @TempDir
    Path dir;

    @Test
    void plainFileIsZeroPaddedTwoPixelsEachSide() throws Exception {
        Path f = dir.resolve("train-images-idx3-ubyte");
        Files.write(f, TestFiles.idx(3, 28, 28));
        IdxSource s = new IdxSource(f, 32);
        assertThat(s.size()).isEqualTo(3);
        assertThat(new int[] {s.channels(), s.height(), s.width()}).containsExactly(1, 32, 32);
        byte[] im = s.image(2);
        // pixel (y, x) of the 28x28 image lands at (y + 2, x + 2); value k*10 + y + x
        assertThat(im[(0 + 2) * 32 + (0 + 2)] & 255).isEqualTo(20);
        assertThat(im[(27 + 2) * 32 + (5 + 2)] & 255).isEqualTo(20 + 27 + 5);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                if (y < 2 || y >= 30 || x < 2 || x >= 30) assertThat(im[y * 32 + x]).as("border %d,%d", y, x).isZero();
            }
        }
    }

    @Test
    void gzippedFileGivesTheSameImagesAndNoPaddingAtNativeSize() throws Exception {
        Path plain = dir.resolve("a");
        Path gz = dir.resolve("a.gz");
        Files.write(plain, TestFiles.idx(4, 28, 28));
        Files.write(gz, TestFiles.gzip(TestFiles.idx(4, 28, 28)));
        IdxSource p = new IdxSource(plain, 32);
        IdxSource g = new IdxSource(gz, 32);
        for (int i = 0; i < 4; i++) assertThat(g.image(i)).isEqualTo(p.image(i));
        IdxSource n = new IdxSource(gz, 28);
        assertThat(n.height()).isEqualTo(28);
        assertThat(n.image(1)[3 * 28 + 4] & 255).isEqualTo(10 + 3 + 4);
    }

    /**
     * A limit keeps only the first images in memory (config a reads 10,000 of Fashion-MNIST's 60,000: 8 MB, not 47),
     * and the rest of the file is still read through, so a truncated or overlong file is still an error.
     */
    @Test
    void aLimitKeepsOnlyTheFirstImagesAndStillChecksTheWholeFile() throws Exception {
        Path gz = dir.resolve("b.gz");
        Files.write(gz, TestFiles.gzip(TestFiles.idx(5, 28, 28)));
        IdxSource all = new IdxSource(gz, 32);
        IdxSource two = new IdxSource(gz, 32, 2);
        assertThat(two.size()).isEqualTo(2);
        assertThat(two.image(1)).isEqualTo(all.image(1));
        assertThatThrownBy(() -> two.image(2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(two.describe()).contains("first 2 of 5 images");
        assertThat(two.heldBytes()).isEqualTo(2L * 28 * 28);
        assertThat(new IdxSource(gz, 32, 9).size()).as("a limit above the count keeps all").isEqualTo(5);
        byte[] cut = TestFiles.idx(5, 28, 28);
        Path shortFile = dir.resolve("short");
        Files.write(shortFile, Arrays.copyOf(cut, cut.length - 100));
        assertThatThrownBy(() -> new IdxSource(shortFile, 32, 1)).hasMessageContaining("truncated");
        assertThatThrownBy(() -> new IdxSource(gz, 32, -1)).isInstanceOf(DataException.class)
                .hasMessageContaining("must not be negative");
    }

    @Test
    void wrongMagicNamesFileAndNumber() throws Exception {
        byte[] b = TestFiles.idx(2, 28, 28);
        b[3] = 1; // a label file's magic 0x00000801
        Path f = dir.resolve("labels");
        Files.write(f, b);
        assertThatThrownBy(() -> new IdxSource(f, 32)).isInstanceOf(DataException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("wrong IDX magic number 0x00000801");
    }

    @Test
    void truncatedAndTooLongFiles() throws Exception {
        byte[] b = TestFiles.idx(3, 28, 28);
        Path f = dir.resolve("short");
        Files.write(f, Arrays.copyOf(b, b.length - 100));
        assertThatThrownBy(() -> new IdxSource(f, 32)).hasMessageContaining(f.toString()).hasMessageContaining("truncated")
                .hasMessageContaining((b.length - 100) + " bytes").hasMessageContaining("needs " + b.length);
        Path h = dir.resolve("header");
        Files.write(h, Arrays.copyOf(b, 9));
        assertThatThrownBy(() -> new IdxSource(h, 32)).hasMessageContaining("truncated IDX header, 9 of 16 bytes");
        Path g = dir.resolve("long");
        Files.write(g, Arrays.copyOf(b, b.length + 5));
        assertThatThrownBy(() -> new IdxSource(g, 32)).hasMessageContaining("too long");
        // a header whose pixels could not fit in one array is refused before anything is allocated
        byte[] huge = Arrays.copyOf(b, 16);
        huge[4] = 0x00; huge[5] = 0x01; huge[6] = (byte) 0x86; huge[7] = (byte) 0xA0; // 100,000 images
        huge[8] = 0; huge[9] = 0; huge[10] = 0; huge[11] = (byte) 200;               // of 200 x 200
        huge[12] = 0; huge[13] = 0; huge[14] = 0; huge[15] = (byte) 200;
        Path big = dir.resolve("huge");
        Files.write(big, huge);
        assertThatThrownBy(() -> new IdxSource(big, 200)).isInstanceOf(DataException.class)
                .hasMessageContaining(big.toString())
                .hasMessageContaining("100000 images of 200x200 do not fit in one array");
    }

    @Test
    void truncatedGzipAndMissingFile() throws Exception {
        byte[] gz = TestFiles.gzip(TestFiles.idx(3, 28, 28));
        Path f = dir.resolve("cut.gz");
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        assertThatThrownBy(() -> new IdxSource(f, 32)).hasMessageContaining(f.toString())
                .hasMessageContaining("truncated gzip stream");
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> new IdxSource(missing, 32)).hasMessageContaining(missing + ": file not found");
    }

    @Test
    void sizeThatCannotBeReachedByPadding() throws Exception {
        Path f = dir.resolve("x");
        Files.write(f, TestFiles.idx(1, 28, 28));
        assertThatThrownBy(() -> new IdxSource(f, 31)).hasMessageContaining("cannot pad 28x28 images to 31x31");
        assertThatThrownBy(() -> new IdxSource(f, 16)).hasMessageContaining("cannot pad 28x28 images to 16x16");
    }

    /** The real Fashion-MNIST of Debian's dataset-fashion-mnist; reference values computed with numpy. */
    @Test
    void realFashionMnist() {
        assumeTrue(Files.isDirectory(DataSets.FASHION_MNIST), "dataset-fashion-mnist is not installed");
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FASHION_MNIST, null), 1, 32)) {
            assertThat(s.train().size()).isEqualTo(60000);
            assertThat(s.test().size()).isEqualTo(10000);
            byte[] first = s.train().image(0);
            assertThat(sum(first)).isEqualTo(76247);
            assertThat(first[(14 + 2) * 32 + 14 + 2] & 255).isEqualTo(217);
            assertThat(sum(s.train().image(59999))).isEqualTo(16684);
            assertThat(sum(s.test().image(0))).isEqualTo(33456);
            assertThat(sum(s.test().image(9999))).isEqualTo(24390);
            assertThat(s.train().describe()).contains("train-images-idx3-ubyte.gz").contains("zero-padded to 1x32x32");
        }
    }

    private static long sum(byte[] b) {
        long s = 0;
        for (byte v : b) s += v & 255;
        return s;
    }
}
