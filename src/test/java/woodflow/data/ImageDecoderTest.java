package woodflow.data;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageDecoderTest {
    private static BufferedImage pattern(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (x * 7 + seed) << 16 | (y * 5) << 8 | (x + y) * 3);
        return img;
    }

    @Test
    void reusedReadersDecodeASequenceOfFormatsAndSizesLikeImageIo() throws Exception {
        byte[] broken = TestFiles.encode(pattern(40, 30, 1), "jpg");
        broken = Arrays.copyOf(broken, 20); // a JPEG start marker, then nothing usable
        List<byte[]> files = List.of(TestFiles.encode(pattern(40, 30, 1), "jpg"), TestFiles.encode(pattern(17, 23, 2), "png"),
                TestFiles.WEBP_LOSSLESS_HALVES, TestFiles.encode(pattern(64, 48, 3), "jpg"), broken,
                TestFiles.encode(pattern(33, 33, 4), "jpg"), TestFiles.encode(pattern(12, 40, 5), "png"));
        for (int round = 0; round < 2; round++) {
            for (int k = 0; k < files.size(); k++) {
                byte[] bytes = files.get(k);
                if (bytes == broken) {
                    assertThatThrownBy(() -> ImageDecoder.decode(bytes, "broken.jpg")).isInstanceOf(DataException.class)
                            .hasMessageContaining("broken.jpg");
                    continue;
                }
                BufferedImage ours = ImageDecoder.decode(bytes, "f" + k);
                BufferedImage reference = ImageIO.read(new ByteArrayInputStream(bytes));
                assertThat(ours.getWidth()).isEqualTo(reference.getWidth());
                assertThat(ours.getHeight()).isEqualTo(reference.getHeight());
                int w = ours.getWidth();
                int h = ours.getHeight();
                int[] a = ours.getRGB(0, 0, w, h, null, 0, w);
                int[] b = reference.getRGB(0, 0, w, h, null, 0, w);
                for (int i = 0; i < a.length; i++) {
                    for (int shift = 0; shift < 24; shift += 8) {
                        // JPEG decoders may differ by a level of rounding in the colour conversion
                        assertThat(Math.abs((a[i] >> shift & 255) - (b[i] >> shift & 255))).as("file %d pixel %d", k, i)
                                .isLessThanOrEqualTo(2);
                    }
                }
            }
        }
    }

    @Test
    void greyPngIsReadWithoutGammaConversion() throws Exception {
        BufferedImage grey = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) grey.getRaster().setSample(x, y, 0, 128);
        byte[] im = ImageDecoder.toChw(TestFiles.encode(grey, "png"), "g.png", 3, 4);
        // getRGB would turn linear grey 128 into about 186; the raw sample is kept
        for (byte v : im) assertThat(v & 255).isEqualTo(128);
    }
}
