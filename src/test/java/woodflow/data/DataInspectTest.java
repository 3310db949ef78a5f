package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class DataInspectTest {
    @TempDir
    Path dir;

    @Test
    void meanAndStdPerChannel() {
        // channel 0 is 0 or 100 (mean 50, std 50); channel 1 is constant 7
        List<byte[]> images = List.of(new byte[] {0, 0, 7, 7}, new byte[] {100, 100, 7, 7});
        DataInspect.Report r = DataInspect.inspect(new ArraySource(images, 2, 1, 2, "two"), 100);
        assertThat(r.sampled()).isEqualTo(2);
        assertThat(r.mean()[0]).isCloseTo(50, within(1e-9));
        assertThat(r.std()[0]).isCloseTo(50, within(1e-9));
        assertThat(r.mean()[1]).isCloseTo(7, within(1e-9));
        assertThat(r.std()[1]).isCloseTo(0, within(1e-9));
        assertThat(r.format()).contains("images 2, shape 2x1x2").contains("pixel mean 50.0 / 7.0, std 50.0 / 0.0");
    }

    @Test
    void runPrintsBothSplitsAndWritesGridAndHoldoutList() throws Exception {
        for (int i = 0; i < 10; i++) TestFiles.write(TestFiles.solid(12, 12, 30, 60, 90), "png", dir.resolve("in/" + i + ".png"));
        DataConfig cfg = DataConfig.of(DataKind.CELEBA, dir.resolve("in").toString()).withHoldout(2).withSize(8);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Path grid = dir.resolve("out/grid.png");
        List<DataInspect.Report> reports = DataInspect.run(cfg, 50, grid, new PrintStream(text, true, StandardCharsets.UTF_8));
        String out = text.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("train: folder").contains("images 8, shape 3x8x8").contains("test:  folder")
                .contains("pixel mean 30.0 / 60.0 / 90.0, std 0.0 / 0.0 / 0.0").contains("hold-out list");
        assertThat(reports.get(1).count()).isEqualTo(2);
        // enlarged 8 times (tiles at least 64 pixels), a title line above
        var png = ImageIO.read(grid.toFile());
        assertThat(png.getWidth()).isEqualTo((8 * (8 + 2) + 2) * 8);
        assertThat(png.getHeight()).isGreaterThan((1 * (8 + 2) + 2) * 8);
        assertThat(Files.readAllLines(dir.resolve("out/holdout.txt"))).hasSize(2);
    }
}
