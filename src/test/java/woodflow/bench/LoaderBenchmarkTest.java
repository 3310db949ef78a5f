package woodflow.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark runs end to end on a tiny folder; its number is reported, never asserted against a speed. */
class LoaderBenchmarkTest {
    @TempDir
    Path dir;

    @Test
    void generatedJpegsStreamThroughTheLoader() throws Exception {
        LoaderBenchmark.writeJpegs(dir, 12, 80);
        assertThat(ImageIO.read(dir.resolve("img00003.jpg").toFile()).getWidth()).isEqualTo(80);
        double rate = LoaderBenchmark.run(dir, 4, 2, 3);
        System.out.printf("loader (12 JPEGs, 3 batches of 4): %.0f images/s%n", rate);
        assertThat(rate).isPositive().isFinite();
    }
}
