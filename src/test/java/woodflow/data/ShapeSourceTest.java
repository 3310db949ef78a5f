package woodflow.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShapeSourceTest {
    @Test
    void deterministicDisjointAndLabelled() {
        ShapeSource a = new ShapeSource(60, 3, 16, 3, 0);
        assertThat(a.image(17)).isEqualTo(new ShapeSource(60, 3, 16, 3, 0).image(17));
        assertThat(a.image(17)).isNotEqualTo(new ShapeSource(60, 3, 16, 4, 0).image(17));
        // the test split is a later index range of the same stream, labels included
        ShapeSource test = new ShapeSource(10, 3, 16, 3, 50);
        assertThat(test.image(2)).isEqualTo(a.image(52));
        assertThat(test.label(2)).isEqualTo(a.label(52));
        Set<Integer> labels = new HashSet<>();
        for (int i = 0; i < a.size(); i++) labels.add(a.label(i));
        assertThat(labels).hasSize(ShapeSource.CLASSES);
        assertThat(ShapeSource.labelName(0)).isEqualTo("red disc");
        assertThat(ShapeSource.labelName(ShapeSource.CLASSES - 1)).isEqualTo("blue ring");
    }

    @Test
    void theLabelIsWhatIsDrawn() {
        ShapeSource s = new ShapeSource(300, 3, 16, 9, 0);
        for (int i = 0; i < s.size(); i++) {
            byte[] im = s.image(i);
            int label = s.label(i);
            ShapeSource.Kind kind = ShapeSource.Kind.values()[label / 4];
            // the shape's colour: the pixel furthest from the (dark) background; its strongest channel names it
            int best = 0, at = 0;
            for (int p = 0; p < 256; p++) {
                int sum = (im[p] & 255) + (im[256 + p] & 255) + (im[512 + p] & 255);
                if (sum > best) {
                    best = sum;
                    at = p;
                }
            }
            int r = im[at] & 255, g = im[256 + at] & 255, b = im[512 + at] & 255;
            String colour = b > r && b > g ? "blue" : r > 180 && g > 150 ? "yellow" : r > g ? "red" : "green";
            assertThat(ShapeSource.labelName(label)).as("image %d", i).startsWith(colour);
            // a square fills its bounding box, a disc ~79% of it, a ring (with its hole) less
            int lit = 0, x0 = 16, x1 = -1, y0 = 16, y1 = -1;
            for (int p = 0; p < 256; p++) {
                if ((im[p] & 255) + (im[256 + p] & 255) + (im[512 + p] & 255) > best / 2 + 40) {
                    lit++;
                    x0 = Math.min(x0, p % 16);
                    x1 = Math.max(x1, p % 16);
                    y0 = Math.min(y0, p / 16);
                    y1 = Math.max(y1, p / 16);
                }
            }
            double fill = lit / (double) ((x1 - x0 + 1) * (y1 - y0 + 1));
            switch (kind) {
                case SQUARE -> assertThat(fill).as("image %d", i).isGreaterThan(0.9);
                case DISC -> assertThat(fill).as("image %d", i).isBetween(0.6, 0.9);
                case RING -> assertThat(fill).as("image %d", i).isLessThan(0.75);
            }
        }
    }

    @Test
    void badShapesAndStylesAreOneLineErrors() {
        assertThatThrownBy(() -> new ShapeSource(3, 3, 6, 0, 0)).hasMessageContaining("at least 8 pixels, got 6");
        assertThatThrownBy(() -> EmbeddedStyle.parse("shape")).hasMessage(
                "unknown data.style 'shape': use scenes or shapes; did you mean shapes?");
        assertThat(EmbeddedStyle.parse("shapes")).isEqualTo(EmbeddedStyle.SHAPES);
        assertThat(EmbeddedStyle.SCENES.source(2, 1, 8, 0, 0)).isInstanceOf(EmbeddedSource.class);
        DataConfig wrong = DataConfig.of(DataKind.CIFAR10, "/nowhere").withStyle(EmbeddedStyle.SHAPES);
        assertThatThrownBy(() -> DataSets.open(wrong, 3, 32)).hasMessageContaining(
                "data.style (\"shapes\") applies to the embedded data set only, not kind cifar10");
    }
}
