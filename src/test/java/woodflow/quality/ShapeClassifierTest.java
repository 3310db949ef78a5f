package woodflow.quality;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;
import woodflow.data.ShapeSource;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The recognisability number's plumbing, on 12x12 shapes (a few seconds of training). */
class ShapeClassifierTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @Test
    void realShapesAreRecognisedNoiseAndCloudsAreNot() {
        int size = Integer.getInteger("woodflow.test.shapeSize", 12);
        ShapeSource train = new ShapeSource(4000, 3, size, 0, 0);
        ShapeSource test = new ShapeSource(256, 3, size, 0, 4000);
        long t0 = System.nanoTime();
        ShapeClassifier net = ShapeClassifier.train(train, 5, 1);
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<byte[]> real = new ArrayList<>(), cloudImages = new ArrayList<>();
        woodflow.data.SplitMix64 clouds = new woodflow.data.SplitMix64(99); // not the training clouds' stream
        for (int i = 0; i < test.size(); i++) {
            real.add(test.image(i));
            cloudImages.add(ShapeClassifier.cloud(3, size, clouds));
        }
        double realShare = net.confidentShare(real);
        double noiseShare = net.confidentShare(ShapeClassifier.noise(256, 3, size, 5));
        double cloudShare = net.confidentShare(cloudImages);
        System.out.printf("shape classifier %dx%d: real %.3f, clouds %.3f, noise %.3f, trained in %.1f s%n", size,
                size, realShare, cloudShare, noiseShare, seconds);
        assertThat(realShare).isGreaterThan(0.8);
        assertThat(noiseShare).isLessThan(0.1);
        assertThat(cloudShare).isLessThan(0.2);
        // a confident kind is the right one
        int[] kinds = net.confidentKinds(real);
        int right = 0, confident = 0;
        for (int i = 0; i < kinds.length; i++) {
            if (kinds[i] < 0) continue;
            confident++;
            if (kinds[i] == ShapeSource.kindOf(test.label(i)).ordinal()) right++;
        }
        assertThat(right).isGreaterThan((int) (0.95 * confident));

        // two shapes in one picture are not one shape (pairs from a stream the training never drew)
        woodflow.data.SplitMix64 pairs = new woodflow.data.SplitMix64(1234);
        List<byte[]> two = new ArrayList<>(), mixed = new ArrayList<>();
        for (int i = 0; i + 1 < test.size(); i += 2) {
            if (test.label(i) / 4 == test.label(i + 1) / 4) continue;
            two.add(ShapeClassifier.twoShapes(test.image(i), test.image(i + 1), 3, size, pairs));
        }
        // a shape in an in-between colour (each channel the mean of two: purple, teal, orange) is still that shape:
        // a flow's samples mix the data's colours, and a person names the shape all the same
        int n = size * size;
        for (int i = 0; i < test.size(); i++) {
            byte[] im = test.image(i), out = new byte[im.length];
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < n; p++) {
                    out[c * n + p] = (byte) (((im[c * n + p] & 255) + (im[((c + 1) % 3) * n + p] & 255)) / 2);
                }
            }
            mixed.add(out);
        }
        double twoShare = net.confidentShare(two), mixedShare = net.confidentShare(mixed);
        System.out.printf("shape classifier %dx%d: two shapes %.3f (%d pictures), in-between colours %.3f%n", size,
                size, twoShare, two.size(), mixedShare);
        assertThat(twoShare).isLessThan(0.2);
        assertThat(mixedShare).isGreaterThan(0.8);
    }

    @Test
    void seededAndDeterministic() {
        ShapeSource train = new ShapeSource(500, 3, 8, 2, 0);
        List<byte[]> images = ShapeClassifier.noise(32, 3, 8, 0);
        images.add(train.image(0));
        ShapeClassifier a = ShapeClassifier.train(train, 5, 7, 20), b = ShapeClassifier.train(train, 5, 7, 20);
        assertThat(a.confidentKinds(images)).isEqualTo(b.confidentKinds(images));
        assertThat(a.probabilities(images)).isEqualTo(b.probabilities(images));
    }

    @Test
    void recognisabilityIsOnlyMeasuredOnLabelledShapesAndPrintsOneLine() {
        var scenes = new woodflow.data.EmbeddedSource(10, 3, 16, 0, 0);
        assertThat(Recognisability.measure(scenes, scenes, List.of(), 5, 0)).isNull();
        Recognisability r = new Recognisability(0.71, 0.98, 0.0, 64, 256, 256, new int[] {20, 9, 16}, 3.2);
        assertThat(r.line()).isEqualTo("recognisable: samples 71% · real 98% · noise 0% (shape classifier, "
                + "confidence >= 0.9; 64 samples at T = 0.7: disc 20, square 9, ring 16)");
    }

    @Test
    void wrongImageShapeIsAnError() {
        ShapeClassifier net = ShapeClassifier.train(new ShapeSource(64, 1, 8, 0, 0), 5, 0, 5);
        assertThatThrownBy(() -> net.confidentShare(List.of(new byte[3 * 64]))).hasMessage(
                "the shape classifier takes 1x8x8 images (64 bytes), got 192 bytes");
        assertThat(net.confidentShare(List.of())).isNaN();
    }
}
