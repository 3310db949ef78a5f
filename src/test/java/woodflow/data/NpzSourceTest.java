package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NpzSourceTest {
    @TempDir
    Path dir;

    /**
     * Written by numpy 2.4 itself: {@code np.savez(f, data=(np.arange(24, dtype=np.uint8) * 10).reshape(2, 12),
     * labels=np.array([3, 7]))}, which uses zip64 local headers. Image 0 is red 0,10,20,30, green 40..70, blue 80..110.
     */
    private static final String NUMPY_SAVEZ = "UEsDBC0AAAAAAAAAIQAin79z//////////8IABQAZGF0YS5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJ3x1MScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCAxMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAoUHigyPEZQWmRueIKMlqCqtL7I0tzmUEsDBC0AAAAAAAAAIQAL11wm//////////8KABQAbGFiZWxzLm5weQEAEACQAAAAAAAAAJAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoDAAAAAAAAAAcAAAAAAAAAUEsBAi0DLQAAAAAAAAAhACKfv3OYAAAAmAAAAAgAAAAAAAAAAAAAAIABAAAAAGRhdGEubnB5UEsBAi0DLQAAAAAAAAAhAAvXXCaQAAAAkAAAAAoAAAAAAAAAAAAAAIAB0gAAAGxhYmVscy5ucHlQSwUGAAAAAAIAAgBuAAAAngEAAAAA";
    /** The same arrays through {@code np.savez_compressed}. */
    private static final String NUMPY_SAVEZ_COMPRESSED = "UEsDBC0AAAAIAAAAIQAin79z//////////8IABQAZGF0YS5ucHkBABAAmAAAAAAAAABgAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CoZGmjoKtQrkAi4GLhE5DSMbt4ColLyKpp5pC1Zt2Xfi0p1nAFBLAwQtAAAACAAAACEAC9dcJv//////////CgAUAGxhYmVscy5ucHkBABAAkAAAAAAAAABKAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6mjoKtQoUAC5mBghgh9IAUEsBAi0DLQAAAAgAAAAhACKfv3NgAAAAmAAAAAgAAAAAAAAAAAAAAIABAAAAAGRhdGEubnB5UEsBAi0DLQAAAAgAAAAhAAvXXCZKAAAAkAAAAAoAAAAAAAAAAAAAAIABmgAAAGxhYmVscy5ucHlQSwUGAAAAAAIAAgBuAAAAIAEAAAAA";

    private static byte[] arange(int n, int step) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * step);
        return b;
    }

    @Test
    void filesWrittenByNumpyItself() throws Exception {
        for (String b64 : List.of(NUMPY_SAVEZ, NUMPY_SAVEZ_COMPRESSED)) {
            Path f = dir.resolve("batch.npz");
            Files.write(f, Base64.getDecoder().decode(b64));
            NpzSource s = new NpzSource(List.of(f), dir);
            assertThat(s.size()).isEqualTo(2);
            assertThat(new int[] {s.channels(), s.height(), s.width()}).containsExactly(3, 2, 2);
            assertThat(s.image(0)).isEqualTo(Arrays.copyOfRange(arange(24, 10), 0, 12));
            assertThat(s.image(1)[11] & 255).isEqualTo(230);
        }
        // and our test writer produces numpy's .npy bytes exactly
        try (ZipFile z = new ZipFile(dir.resolve("batch.npz").toFile())) {
            byte[] numpy = z.getInputStream(z.getEntry("data.npy")).readAllBytes();
            assertThat(TestFiles.npy("|u1", false, new long[] {2, 12}, arange(24, 10))).isEqualTo(numpy);
        }
    }

    private Path batch(String name, boolean compressed, int n, int side, int offset) throws Exception {
        int per = 3 * side * side;
        byte[] data = new byte[n * per];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (offset + i);
        byte[] labels = TestFiles.npy("<i8", false, new long[] {n}, new byte[8 * n]);
        Path f = dir.resolve(name);
        TestFiles.npz(f, compressed, new String[] {"data", "labels"},
                new byte[][] {TestFiles.npy("|u1", false, new long[] {n, per}, data), labels});
        return f;
    }

    @Test
    void storedAndDeflatedBatchesConcatenate() throws Exception {
        Path a = batch("train_data_batch_1.npz", false, 3, 4, 0);
        Path b = batch("train_data_batch_2.npz", true, 2, 4, 100);
        NpzSource s = new NpzSource(List.of(a, b), dir);
        assertThat(s.size()).isEqualTo(5);
        assertThat(s.image(1)[0] & 255).isEqualTo(48); // image 1 starts at byte 48 of batch 1
        assertThat(s.image(4)[5] & 255).isEqualTo((100 + 48 + 5) & 255); // image 1 of batch 2
        assertThat(s.describe()).contains("5 images, 3x4x4");
    }

    @Test
    void imagenetLayoutOrdersBatchesByNumber() throws Exception {
        batch("train_data_batch_10.npz", false, 1, 4, 7);
        batch("train_data_batch_2.npz", false, 1, 4, 3);
        batch("train_data_batch_1.npz", false, 1, 4, 1);
        batch("val_data.npz", true, 2, 4, 9);
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IMAGENET, dir.toString()), 3, 4)) {
            assertThat(s.train().size()).isEqualTo(3);
            assertThat(s.train().image(0)[0]).isEqualTo((byte) 1);
            assertThat(s.train().image(1)[0]).isEqualTo((byte) 3);
            assertThat(s.train().image(2)[0]).isEqualTo((byte) 7);
            assertThat(s.test().size()).isEqualTo(2);
        }
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IMAGENET, dir.toString()), 3, 8))
                .hasMessageContaining("images are 3x4x4 but the model expects 3x8x8");
    }

    @Test
    void imagenetPngFolders() throws Exception {
        TestFiles.write(TestFiles.solid(32, 32, 5, 6, 7), "png", dir.resolve("train_32x32/0001.png"));
        TestFiles.write(TestFiles.solid(32, 32, 8, 9, 10), "png", dir.resolve("valid_32x32/0001.png"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.IMAGENET, dir.toString()), 3, 32)) {
            assertThat(s.train().size()).isEqualTo(1);
            assertThat(s.test().image(0)[1024] & 255).isEqualTo(9);
        }
        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.IMAGENET, empty.toString()), 3, 32))
                .hasMessageContaining("no ImageNet data found");
    }

    @Test
    void headerErrors() throws Exception {
        byte[] ok = TestFiles.npy("|u1", false, new long[] {1, 12}, new byte[12]);
        Path f = dir.resolve("f.npz");
        TestFiles.npz(f, false, new String[] {"data"}, new byte[][] {TestFiles.npy("<f4", false, new long[] {1, 3}, new byte[12])});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining(f + ":data.npy")
                .hasMessageContaining("dtype is '<f4', expected unsigned bytes '|u1'");
        TestFiles.npz(f, false, new String[] {"data"}, new byte[][] {TestFiles.npy("|u1", true, new long[] {1, 12}, new byte[12])});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining("Fortran");
        byte[] badMagic = ok.clone();
        badMagic[1] = 'X';
        TestFiles.npz(f, false, new String[] {"data"}, new byte[][] {badMagic});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining("not a .npy array");
        byte[] v9 = ok.clone();
        v9[6] = 9;
        TestFiles.npz(f, false, new String[] {"data"}, new byte[][] {v9});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining("unsupported .npy format version 9");
        TestFiles.npz(f, false, new String[] {"data"}, new byte[][] {TestFiles.npy("|u1", false, new long[] {2, 10}, new byte[20])});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining("shape [2, 10] is not N x (3*s*s)");
        TestFiles.npz(f, false, new String[] {"pixels"}, new byte[][] {ok});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining("no 'data' array")
                .hasMessageContaining("[pixels.npy]");
    }

    @Test
    void versionTwoHeaderIsRead() throws Exception {
        byte[] v1 = TestFiles.npy("|u1", false, new long[] {1, 12}, arange(12, 1));
        int len = (v1[8] & 255) | (v1[9] & 255) << 8;
        // version 2: a 4-byte header length; the dict, its padding and the data are unchanged
        byte[] v2 = new byte[v1.length + 2];
        System.arraycopy(v1, 0, v2, 0, 8);
        v2[6] = 2;
        v2[8] = (byte) len;
        v2[9] = (byte) (len >> 8);
        System.arraycopy(v1, 10, v2, 12, v1.length - 10);
        Path f = dir.resolve("v2.npz");
        TestFiles.npz(f, true, new String[] {"data"}, new byte[][] {v2});
        assertThat(new NpzSource(List.of(f), dir).image(0)).isEqualTo(arange(12, 1));
    }

    @Test
    void truncatedDataAndTruncatedZip() throws Exception {
        byte[] full = TestFiles.npy("|u1", false, new long[] {4, 12}, new byte[48]);
        Path f = dir.resolve("short.npz");
        TestFiles.npz(f, true, new String[] {"data"}, new byte[][] {Arrays.copyOf(full, full.length - 10)});
        assertThatThrownBy(() -> new NpzSource(List.of(f), dir)).hasMessageContaining(f + ":data.npy: truncated, 38 data"
                + " bytes but shape [4, 12] needs 48");
        Path g = batch("cut.npz", false, 2, 4, 0);
        byte[] whole = Files.readAllBytes(g);
        Files.write(g, Arrays.copyOf(whole, whole.length - 30));
        assertThatThrownBy(() -> new NpzSource(List.of(g), dir)).hasMessageContaining(g.toString())
                .hasMessageContaining("not a valid .npz (zip) file or truncated");
        Path missing = dir.resolve("none.npz");
        assertThatThrownBy(() -> new NpzSource(List.of(missing), dir)).hasMessageContaining(missing + ": .npz file not found");
    }
}
