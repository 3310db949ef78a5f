package woodflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.ByteArrayProxy;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** LSUN's form: an LMDB whose values are encoded JPEG and WebP images, written here with lmdbjava. */
class LmdbSourceTest {
    @TempDir
    Path dir;

    private static void writeLmdb(Path envDir, Map<String, byte[]> entries) throws Exception {
        Files.createDirectories(envDir);
        try (Env<byte[]> env = Env.create(ByteArrayProxy.PROXY_BA).setMapSize(1 << 24).setMaxDbs(1).open(envDir.toFile())) {
            Dbi<byte[]> db = env.openDbi((String) null, DbiFlags.MDB_CREATE);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                db.put(e.getKey().getBytes(StandardCharsets.US_ASCII), e.getValue());
            }
        }
    }

    private static Map<String, byte[]> images() throws Exception {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("c0ffee02", TestFiles.WEBP_LOSSLESS_HALVES);
        m.put("a11ce001", TestFiles.encode(TestFiles.solid(120, 90, 30, 90, 200), "jpg"));
        m.put("d00d0003", TestFiles.WEBP_LOSSY_SOLID);
        return m;
    }

    @Test
    void jpegAndWebpValuesAreDecodedCroppedAndResizedInKeyOrder() throws Exception {
        Path db = dir.resolve("church_outdoor_train_lmdb");
        writeLmdb(db, images());
        try (LmdbSource s = new LmdbSource(db, 3, 8, BadImagePolicy.FAIL)) {
            assertThat(s.size()).isEqualTo(3);
            assertThat(s.key(0)).isEqualTo("a11ce001"); // LMDB keeps keys sorted
            byte[] jpeg = s.image(0);
            assertThat(jpeg[27] & 255).isBetween(25, 35);
            assertThat(jpeg[64 + 27] & 255).isBetween(85, 95);
            assertThat(jpeg[128 + 27] & 255).isBetween(195, 205);
            // lossless WebP 12x8: centre crop columns 2..9 -> left half (220, 40, 30), right half (30, 60, 210)
            byte[] webp = s.image(1);
            assertThat(new int[] {webp[8 * 4 + 3] & 255, webp[64 + 8 * 4 + 3] & 255, webp[128 + 8 * 4 + 3] & 255})
                    .containsExactly(220, 40, 30);
            assertThat(new int[] {webp[8 * 4 + 4] & 255, webp[64 + 8 * 4 + 4] & 255, webp[128 + 8 * 4 + 4] & 255})
                    .containsExactly(30, 60, 210);
            // lossy WebP of (90, 160, 60): libwebp decodes (90, 161, 62); other decoders' rounding may differ by a level
            byte[] lossy = s.image(2);
            for (int i = 0; i < 64; i++) {
                assertThat(lossy[i] & 255).isBetween(88, 92);
                assertThat(lossy[64 + i] & 255).isBetween(159, 163);
                assertThat(lossy[128 + i] & 255).isBetween(59, 64);
            }
        }
    }

    @Test
    void undecodableValueIsSkippedOrFatal() throws Exception {
        Map<String, byte[]> m = images();
        m.put("b0000000", "garbage, not an image".getBytes(StandardCharsets.US_ASCII));
        Path db = dir.resolve("db");
        writeLmdb(db, m);
        try (LmdbSource skip = new LmdbSource(db, 3, 4, BadImagePolicy.SKIP)) {
            assertThat(skip.key(1)).isEqualTo("b0000000");
            assertThat(skip.image(1)).isEqualTo(skip.image(2)); // replaced by the next decodable value
            assertThat(skip.undecodable()).isEqualTo(1);
            assertThat(skip.describe()).contains("1 undecodable skipped");
        }
        try (LmdbSource fail = new LmdbSource(db, 3, 4, BadImagePolicy.FAIL)) {
            assertThatThrownBy(() -> fail.image(1)).isInstanceOf(DataException.class)
                    .hasMessageContaining(db + " key b0000000").hasMessageContaining("not a readable image");
        }
    }

    @Test
    void missingOrCorruptDatabase() throws Exception {
        Path none = dir.resolve("none");
        assertThatThrownBy(() -> new LmdbSource(none, 3, 8, BadImagePolicy.FAIL)).hasMessageContaining(none + ": no LMDB database");
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        Files.write(bad.resolve("data.mdb"), new byte[8192]);
        assertThatThrownBy(() -> new LmdbSource(bad, 3, 8, BadImagePolicy.FAIL)).isInstanceOf(DataException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining("LMDB");
    }

    @Test
    void lsunLayouts() throws Exception {
        writeLmdb(dir.resolve("church_outdoor_train_lmdb"), images());
        Map<String, byte[]> val = new LinkedHashMap<>();
        val.put("v1", TestFiles.WEBP_LOSSY_SOLID);
        writeLmdb(dir.resolve("church_outdoor_val_lmdb"), val);
        try (Splits s = DataSets.open(DataConfig.of(DataKind.LSUN, dir.toString()), 3, 16)) {
            assertThat(s.train().size()).isEqualTo(3);
            assertThat(s.test().size()).isEqualTo(1);
            assertThat(s.test().height()).isEqualTo(16);
        }
        // one database: a seeded hold-out, listed by key
        DataConfig single = DataConfig.of(DataKind.LSUN, dir.resolve("church_outdoor_train_lmdb").toString()).withHoldout(1);
        try (Splits s = DataSets.open(single, 3, 8); Splits again = DataSets.open(single, 3, 8)) {
            assertThat(s.train().size()).isEqualTo(2);
            assertThat(s.holdout()).hasSize(1).isEqualTo(again.holdout());
            assertThat(s.test().image(0)).isEqualTo(again.test().image(0));
        }
    }

    @Test
    void severalCategoriesAreReadAsOneLabelledByCategory() throws Exception {
        writeLmdb(dir.resolve("church_outdoor_train_lmdb"), images());
        writeLmdb(dir.resolve("church_outdoor_val_lmdb"), Map.of("v1", TestFiles.WEBP_LOSSY_SOLID));
        Map<String, byte[]> bedroom = new LinkedHashMap<>();
        bedroom.put("b1", TestFiles.encode(TestFiles.solid(40, 40, 200, 10, 10), "png"));
        bedroom.put("b2", TestFiles.encode(TestFiles.solid(40, 40, 10, 200, 10), "png"));
        writeLmdb(dir.resolve("bedroom_train_lmdb"), bedroom);
        writeLmdb(dir.resolve("bedroom_val_lmdb"), Map.of("w1", TestFiles.encode(TestFiles.solid(40, 40, 9, 9, 9), "png")));
        try (Splits s = DataSets.open(DataConfig.of(DataKind.LSUN, dir.toString()), 3, 8)) {
            assertThat(s.train().size()).isEqualTo(5);
            ClassLabels l = s.train().labels().orElseThrow();
            assertThat(l.names()).containsExactly("bedroom", "church_outdoor");
            assertThat(l.labels(new int[] {0, 1, 2, 3, 4})).containsExactly(0, 0, 1, 1, 1);
            assertThat(s.train().image(0)[0] & 255).isGreaterThan(150); // bedroom's red first
            assertThat(s.test().labels().orElseThrow().labels(new int[] {0, 1})).containsExactly(0, 1);
            assertThat(s.train().describe()).contains("2 categories: bedroom 2, church_outdoor 3");
        }
        // a category without its validation database is named
        Files.walk(dir.resolve("bedroom_val_lmdb")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        assertThatThrownBy(() -> DataSets.open(DataConfig.of(DataKind.LSUN, dir.toString()), 3, 8))
                .hasMessageContaining("bedroom_train_lmdb/ has no bedroom_val_lmdb/ beside it");
    }
}
