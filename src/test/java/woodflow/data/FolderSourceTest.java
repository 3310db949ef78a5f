package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FolderSourceTest {
    @TempDir
    Path dir;

    /** Left half red, right half blue, width w, height h. */
    private static BufferedImage halves(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, x < w / 2 ? 0xC81E14 : 0x1428DC);
        return img;
    }

    private void mixedFolder() throws Exception {
        TestFiles.write(TestFiles.solid(40, 24, 200, 100, 50), "png", dir.resolve("a_solid.png"));
        TestFiles.write(halves(48, 16), "png", dir.resolve("b_halves.png"));
        TestFiles.write(TestFiles.solid(100, 100, 10, 200, 120), "jpg", dir.resolve("sub/c_solid.jpg"));
        Files.write(dir.resolve("d_webp.webp"), TestFiles.WEBP_LOSSLESS_HALVES);
        Files.writeString(dir.resolve("notes.txt"), "not an image, ignored by extension");
    }

    @Test
    void mixedSizesAreCroppedAndResizedWithExactColours() throws Exception {
        mixedFolder();
        List<Path> files = FolderSource.list(dir);
        assertThat(files.stream().map(f -> FolderSource.relative(dir, f)))
                .containsExactly("a_solid.png", "b_halves.png", "d_webp.webp", "sub/c_solid.jpg");
        FolderSource s = new FolderSource("t", files, 3, 8, BadImagePolicy.FAIL);
        // a solid colour stays that colour through crop and area-average resize (40x24 -> 24x24 -> 8x8)
        byte[] a = s.image(0);
        for (int i = 0; i < 64; i++) {
            assertThat(new int[] {a[i] & 255, a[64 + i] & 255, a[128 + i] & 255}).containsExactly(200, 100, 50);
        }
        // 48x16 halves: the centre 16x16 crop spans columns 16..31, split at column 24 -> left 4 red, right 4 blue
        byte[] b = s.image(1);
        assertThat(rgb(b, 8, 3, 0)).containsExactly(0xC8, 0x1E, 0x14);
        assertThat(rgb(b, 8, 3, 3)).containsExactly(0xC8, 0x1E, 0x14);
        assertThat(rgb(b, 8, 3, 4)).containsExactly(0x14, 0x28, 0xDC);
        assertThat(rgb(b, 8, 7, 7)).containsExactly(0x14, 0x28, 0xDC);
        // the 12x8 lossless WebP: crop columns 2..9, split at 6 -> exact halves again
        byte[] w = s.image(2);
        assertThat(rgb(w, 8, 0, 0)).containsExactly(220, 40, 30);
        assertThat(rgb(w, 8, 5, 3)).containsExactly(220, 40, 30);
        assertThat(rgb(w, 8, 5, 4)).containsExactly(30, 60, 210);
        // JPEG is lossy: within a few levels
        byte[] c = s.image(3);
        assertThat(c[0] & 255).isBetween(5, 15);
        assertThat(c[64 + 27] & 255).isBetween(195, 205);
        assertThat(c[128 + 63] & 255).isBetween(115, 125);
    }

    private static int[] rgb(byte[] im, int size, int y, int x) {
        int n = size * size;
        int i = y * size + x;
        return new int[] {im[i] & 255, im[n + i] & 255, im[2 * n + i] & 255};
    }

    @Test
    void greyConversionAndUpscaling() throws Exception {
        TestFiles.write(TestFiles.solid(6, 6, 200, 100, 50), "png", dir.resolve("s.png"));
        FolderSource grey = new FolderSource("t", FolderSource.list(dir), 1, 12, BadImagePolicy.FAIL);
        byte[] g = grey.image(0);
        int luma = Math.round(0.299f * 200 + 0.587f * 100 + 0.114f * 50);
        assertThat(g).hasSize(144);
        for (byte v : g) assertThat(v & 255).isEqualTo(luma);
    }

    @Test
    void corruptFileIsSkippedAndCountedOrFatal() throws Exception {
        mixedFolder();
        Path bad = dir.resolve("broken.jpg");
        Files.writeString(bad, "this is not a JPEG");
        FolderSource skip = new FolderSource("t", FolderSource.list(dir), 3, 8, BadImagePolicy.SKIP);
        assertThat(skip.size()).isEqualTo(4);
        assertThat(skip.skipped()).containsExactly(bad);
        assertThat(skip.describe()).contains("1 undecodable skipped");
        assertThatThrownBy(() -> new FolderSource("t", FolderSource.list(dir), 3, 8, BadImagePolicy.FAIL))
                .isInstanceOf(DataException.class).hasMessageContaining(bad.toString())
                .hasMessageContaining("on_bad_image");
        assertThatThrownBy(() -> BadImagePolicy.parse("ignore"))
                .hasMessageContaining("unknown data.on_bad_image 'ignore': use skip or fail");
    }

    @Test
    void truncatedBodyIsFoundWhenReadAndReplacedOrFatal() throws Exception {
        TestFiles.write(TestFiles.solid(16, 16, 1, 2, 3), "png", dir.resolve("a.png"));
        byte[] png = TestFiles.encode(halves(64, 64), "png");
        Path cut = dir.resolve("b.png");
        Files.write(cut, Arrays.copyOf(png, 60)); // the header chunk survives, the image data does not
        TestFiles.write(TestFiles.solid(16, 16, 7, 8, 9), "png", dir.resolve("c.png"));
        FolderSource skip = new FolderSource("t", FolderSource.list(dir), 3, 4, BadImagePolicy.SKIP);
        assertThat(skip.size()).isEqualTo(3);
        assertThat(skip.image(1)).isEqualTo(skip.image(2)); // the next decodable image stands in
        assertThat(skip.skipped()).containsExactly(cut);
        FolderSource fail = new FolderSource("t", FolderSource.list(dir), 3, 4, BadImagePolicy.FAIL);
        assertThatThrownBy(() -> fail.image(1)).isInstanceOf(DataException.class).hasMessageContaining(cut.toString());
    }

    @Test
    void missingAndEmptyFolders() throws Exception {
        Path missing = dir.resolve("nothing");
        assertThatThrownBy(() -> FolderSource.list(missing)).hasMessageContaining(missing + ": directory not found");
        Files.createDirectories(dir.resolve("empty/train"));
        Files.createDirectories(dir.resolve("empty/test"));
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.FOLDER, dir.resolve("empty").toString()), 3, 8))
                .hasMessageContaining("the training set is empty");
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.FOLDER, missing.toString()), 3, 8))
                .hasMessageContaining(missing + ": image folder not found");
    }

    @Test
    void trainAndTestSubfolders() throws Exception {
        TestFiles.write(TestFiles.solid(9, 9, 1, 1, 1), "png", dir.resolve("train/x.png"));
        TestFiles.write(TestFiles.solid(9, 9, 2, 2, 2), "png", dir.resolve("train/y.png"));
        TestFiles.write(TestFiles.solid(9, 9, 3, 3, 3), "jpg", dir.resolve("valid/z.jpg"));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.FOLDER, dir.toString()), 3, 8)) {
            assertThat(s.train().size()).isEqualTo(2);
            assertThat(s.test().size()).isEqualTo(1);
            assertThat(s.train().image(1)[0]).isEqualTo((byte) 2);
            assertThat(s.holdout()).isEmpty();
        }
    }
}
