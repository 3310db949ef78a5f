package woodflow.picture;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;
import woodflow.data.Quantization;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageGridTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static byte[] solid(int c, int h, int w, int... value) {
        byte[] b = new byte[c * h * w];
        for (int ch = 0; ch < c; ch++) for (int i = 0; i < h * w; i++) b[ch * h * w + i] = (byte) value[ch];
        return b;
    }

    @Test
    void tilesWithTwoPixelPaddingInRowMajorOrder() throws Exception {
        List<byte[]> images = List.of(solid(3, 4, 5, 255, 0, 0), solid(3, 4, 5, 0, 255, 0), solid(3, 4, 5, 0, 0, 255));
        Path png = dir.resolve("grid.png");
        ImageGrid.write(images, 3, 4, 5, 2, png);
        BufferedImage g = ImageIO.read(png.toFile());
        assertThat(g.getWidth()).isEqualTo(2 * (5 + 2) + 2);
        assertThat(g.getHeight()).isEqualTo(2 * (4 + 2) + 2);
        assertThat(g.getRGB(2, 2) & 0xFFFFFF).isEqualTo(0xFF0000);
        assertThat(g.getRGB(2 + 7, 2 + 3) & 0xFFFFFF).isEqualTo(0x00FF00);
        assertThat(g.getRGB(2, 2 + 6) & 0xFFFFFF).isEqualTo(0x0000FF);
        assertThat(g.getRGB(0, 0) & 0xFFFFFF).isZero(); // padding
        assertThat(g.getRGB(2 + 7, 2 + 6) & 0xFFFFFF).isZero(); // the empty fourth cell
    }

    @Test
    void labelledGridsAreScaledUpByNearestNeighbourWithRowAndColumnLabels() {
        List<byte[]> images = List.of(solid(3, 8, 8, 255, 0, 0), solid(3, 8, 8, 0, 255, 0),
                solid(3, 8, 8, 0, 0, 255), solid(3, 8, 8, 10, 20, 30));
        ImageGrid.Labels labels = new ImageGrid.Labels("samples, seed 0", List.of("T = 0.5", "T = 1.0"),
                List.of("1", "2"));
        BufferedImage g = ImageGrid.renderLabelled(images, 3, 8, 8, 2, labels);
        int scale = ImageGrid.viewingScale(8);
        assertThat(scale).isEqualTo(8); // 8-pixel images become 64 pixels high
        BufferedImage plain = ImageGrid.render(images, 3, 8, 8, 2);
        int left = g.getWidth() - plain.getWidth() * scale, top = g.getHeight() - plain.getHeight() * scale;
        assertThat(left).as("a margin for the row labels").isGreaterThan(20);
        assertThat(top).as("a margin for the title and the column labels").isGreaterThan(20);
        // every pixel of a tile is a block of scale x scale pixels of the same colour
        for (int dy = 0; dy < scale * 8; dy += 7) {
            for (int dx = 0; dx < scale * 8; dx += 7) {
                assertThat(g.getRGB(left + 2 * scale + dx, top + 2 * scale + dy) & 0xFFFFFF).isEqualTo(0xFF0000);
            }
        }
        assertThat(g.getRGB(left + (2 + 8 + 2) * scale, top + (2 + 8 + 2) * scale) & 0xFFFFFF).isEqualTo(0x0A141E);
        assertThat(dark(g, 0, top, left, g.getHeight())).as("row labels drawn").isPositive();
        assertThat(dark(g, left, 0, g.getWidth(), top)).as("title and column labels drawn").isPositive();
        assertThatThrownBy(() -> ImageGrid.renderLabelled(images, 3, 8, 8, 2, new ImageGrid.Labels("", List.of("a"),
                List.of()))).hasMessageContaining("1 row labels for 2 rows");
    }

    private static int dark(BufferedImage g, int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) if ((g.getRGB(x, y) & 0xFF) < 128) n++;
        return n;
    }

    @Test
    void greyImagesAndTensorInput() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            byte[] a = new byte[3 * 6];
            for (int i = 0; i < a.length; i++) a[i] = (byte) (i * 10);
            Tensor t = Quantization.stack(List.of(a), 1, 3, 6);
            Path png = dir.resolve("t.png");
            ImageGrid.write(t, 8, png);
            BufferedImage g = ImageIO.read(png.toFile());
            assertThat(g.getWidth()).isEqualTo(6 + 4);
            // pixel (1, 4) of image 0 has value (1 * 6 + 4) * 10 in all three channels
            assertThat(g.getRGB(2 + 4, 2 + 1) & 0xFFFFFF).isEqualTo(0x646464);
            Tensor f = t.to(org.bytedeco.pytorch.global.torch.ScalarType.Float);
            assertThatThrownBy(() -> ImageGrid.write(f, 8, png)).hasMessageContaining("uint8 tensor");
        }
        assertThatThrownBy(() -> ImageGrid.write(List.of(new byte[5]), 1, 2, 2, 4, dir.resolve("x.png")))
                .hasMessageContaining("image 0 has 5 bytes, expected 1x2x2");
    }
}
