package woodflow.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedSourceTest {
    @Test
    void deterministicAndRandomAccess() {
        EmbeddedSource a = new EmbeddedSource(50, 3, 32, 11, 0);
        EmbeddedSource b = new EmbeddedSource(50, 3, 32, 11, 0);
        assertThat(a.image(37)).isEqualTo(b.image(37));
        assertThat(a.image(5)).isEqualTo(a.image(5));
        assertThat(new EmbeddedSource(50, 3, 32, 12, 0).image(37)).isNotEqualTo(a.image(37));
        // the test set is a later index range: its image 0 is image 50 of the same family
        assertThat(new EmbeddedSource(10, 3, 32, 11, 50).image(0)).isEqualTo(new EmbeddedSource(60, 3, 32, 11, 0).image(50));
    }

    @Test
    void imagesHaveStructureNotNoise() {
        EmbeddedSource s = new EmbeddedSource(200, 3, 32, 1, 0);
        Set<Integer> distinct = new HashSet<>();
        double smoothSum = 0;
        double contrastSum = 0;
        for (int k = 0; k < s.size(); k++) {
            byte[] im = s.image(k);
            distinct.add(java.util.Arrays.hashCode(im));
            int min = 255;
            int max = 0;
            double diff = 0;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        int v = im[c * 1024 + y * 32 + x] & 255;
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                        if (x > 0) diff += Math.abs(v - (im[c * 1024 + y * 32 + x - 1] & 255));
                    }
                }
            }
            contrastSum += max - min;
            smoothSum += diff / (3 * 32 * 31);
        }
        assertThat(distinct).hasSize(200);
        // shapes on backgrounds: strong contrast within an image, yet neighbouring pixels are mostly equal
        assertThat(contrastSum / s.size()).isGreaterThan(80);
        assertThat(smoothSum / s.size()).isLessThan(20);
    }

    @Test
    void greyAndOtherSizes() {
        EmbeddedSource grey = new EmbeddedSource(3, 1, 16, 4, 0);
        assertThat(grey.image(2)).hasSize(256);
        assertThat(new EmbeddedSource(3, 3, 64, 4, 0).image(0)).hasSize(3 * 64 * 64);
        assertThatThrownBy(() -> new EmbeddedSource(3, 2, 16, 0, 0)).hasMessageContaining("1 or 3 channels, not 2");
    }

    @Test
    void thousandsOfImagesAreQuick() {
        EmbeddedSource s = new EmbeddedSource(5000, 3, 32, 0, 0);
        long t0 = System.nanoTime();
        long checksum = 0;
        for (int i = 0; i < s.size(); i++) checksum += s.image(i)[0];
        double ms = (System.nanoTime() - t0) / 1e6;
        // reported, not asserted: timing depends on the machine
        System.out.printf("embedded: 5000 images 3x32x32 in %.0f ms (checksum %d)%n", ms, checksum);
        assertThat(s.size()).isEqualTo(5000);
    }
}
