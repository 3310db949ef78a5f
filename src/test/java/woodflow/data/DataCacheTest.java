package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataCacheTest {
    @TempDir
    Path dir;

    @Test
    void cacheHoldsTheSameImagesAndIsReusedUntilTheSourceChanges() throws Exception {
        for (int i = 0; i < 7; i++) TestFiles.write(TestFiles.solid(20 + i, 16, i * 30, 5, 9), "png", dir.resolve("img/" + i + ".png"));
        FolderSource src = new FolderSource("img", FolderSource.list(dir.resolve("img")), 3, 8, BadImagePolicy.FAIL);
        Path file = dir.resolve("cache/train.u8");
        CachedSource c = DataCache.openOrBuild(src, file, 2);
        assertThat(c.size()).isEqualTo(7);
        for (int i = 0; i < 7; i++) assertThat(c.image(i)).isEqualTo(src.image(i));
        AtomicInteger decoded = new AtomicInteger();
        ImageSource counting = new ImageSource() {
            public int size() {
                return src.size();
            }

            public int channels() {
                return src.channels();
            }

            public int height() {
                return src.height();
            }

            public int width() {
                return src.width();
            }

            public byte[] image(int index) {
                decoded.incrementAndGet();
                return src.image(index);
            }

            public String describe() {
                return src.describe();
            }
        };
        assertThat(DataCache.openOrBuild(counting, file, 2).key()).isEqualTo(src.describe());
        assertThat(decoded.get()).as("images decoded: the cache is reused, not rebuilt").isZero();
        ImageSource fewer = IndexedSource.first(src, 3);
        CachedSource rebuilt = DataCache.openOrBuild(fewer, file, 1);
        assertThat(rebuilt.size()).isEqualTo(3);
        assertThat(rebuilt.image(2)).isEqualTo(src.image(2));
    }

    @Test
    void dataSetsUseTheCacheDirectory() {
        DataConfig cfg = DataConfig.embedded().withCount(12).withHoldout(4).withCache(dir.resolve("c").toString());
        try (Splits s = DataSets.open(cfg, 3, 16); Splits plain = DataSets.open(cfg.withCache(null), 3, 16)) {
            assertThat(s.train()).isInstanceOf(CachedSource.class);
            assertThat(s.train().image(11)).isEqualTo(plain.train().image(11));
            assertThat(s.test().image(3)).isEqualTo(plain.test().image(3));
        }
        assertThat(dir.resolve("c/embedded-3x16x16-train.u8")).exists();
    }

    @Test
    void truncatedOrForeignCacheFiles() throws Exception {
        ArraySource src = new ArraySource(java.util.List.of(new byte[] {1, 2, 3, 4}, new byte[] {5, 6, 7, 8}), 1, 2, 2, "tiny");
        Path file = dir.resolve("t.u8");
        DataCache.openOrBuild(src, file, 1);
        byte[] all = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(all, all.length - 3));
        assertThatThrownBy(() -> new CachedSource(file)).hasMessageContaining(file.toString())
                .hasMessageContaining("truncated image cache");
        assertThat(DataCache.openOrBuild(src, file, 1).image(1)).containsExactly(5, 6, 7, 8); // rebuilt
        Path other = dir.resolve("o.u8");
        Files.writeString(other, "something else entirely");
        assertThatThrownBy(() -> new CachedSource(other)).hasMessageContaining("not a woodflow image cache");
    }
}
