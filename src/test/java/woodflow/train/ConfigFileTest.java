package woodflow.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Configs are read as a user means them (issue 31): an empty file, a document that is not a mapping, a duplicate key, a
 * non-integer where an integer goes and a value of the wrong shape each get one line naming the file or the key and
 * what to write instead; no parser or Java type name reaches the user; values that make no run are refused.
 */
class ConfigFileTest {
    static final String MODEL = "model: {channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, "
            + "permutation: woodbury, d_c: [2, 2], d_s: [4, 4]}\n";
    static final String DATA = "data: {kind: embedded, count: 64, holdout: 16}\n";
    static final String TRAIN = "train: {batch: 8, iterations: 4, eval_every: 5}\n";

    /** What must never reach a user: parser tokens and phrases, Java type names. */
    static final Pattern INTERNALS = Pattern.compile("JsonToken|START_ARRAY|END_ARRAY|START_OBJECT|END_OBJECT"
            + "|VALUE_[A-Z_]+|FIELD_NAME|No content to map|Cannot deserialize|Cannot construct|Cannot coerce"
            + "|instance of|\\bjava\\.|\\bwoodflow\\.[a-z]+\\.|\\b(Integer|Double|Long|String|Boolean|int|double"
            + "|long)\\b(?! ?=)|RunConfig|ModelConfig|DataConfig|TrainConfig|Exception|\\[Source|<stream end>"
            + "|<block end>|out of range of int");

    static String message(Path dir, String name, String yaml) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, yaml);
        Throwable t = catchThrowable(() -> RunConfig.read(f).validate());
        assertThat(t).as(name + ": " + yaml).isInstanceOf(IllegalArgumentException.class);
        String m = t.getMessage();
        assertThat(m).as(name).doesNotContain("\n");
        assertThat(INTERNALS.matcher(m).find()).as(name + ": " + m).isFalse();
        return m;
    }

    @Test
    void anEmptyFileOrOneOfCommentsIsNamedWithWhatToWrite(@TempDir Path dir) throws Exception {
        for (String yaml : new String[] {"", "  \n", "# only a comment\n", "---\n...\n", "null\n", "~\n"}) {
            Path f = dir.resolve("empty.yaml");
            assertThat(message(dir, "empty.yaml", yaml)).as(yaml)
                    .isEqualTo("config " + f + " is empty: write a run config there (model:, data:, train:), e.g. "
                            + "start from a preset with `woodflow presets --show demo > " + f + "`");
        }
    }

    @Test
    void aDocumentThatIsNotAMappingIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("doc.yaml");
        assertThat(message(dir, "doc.yaml", "- a\n- b\n")).isEqualTo("config " + f + " is a list, not a mapping of "
                + "keys: a run config maps model:, data: and train: to their settings (see `woodflow presets --show "
                + "demo`)");
        assertThat(message(dir, "doc.yaml", "42\n")).startsWith("config " + f + " is the number 42, not a mapping");
        assertThat(message(dir, "doc.yaml", "just words\n")).startsWith("config " + f + " is the text 'just words', "
                + "not a mapping");
    }

    @Test
    void aDuplicateKeyIsNamedWithItsLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("dup.yaml");
        assertThat(message(dir, "dup.yaml", MODEL + DATA + "train: {batch: 8, iterations: 4, batch: 16}\n"))
                .isEqualTo("invalid config " + f + ": line 3: the key 'batch' is given twice in train; keep one of "
                        + "them");
        assertThat(message(dir, "dup.yaml", "description: a\n" + MODEL + "description: b\n" + DATA + TRAIN))
                .isEqualTo("invalid config " + f + ": line 3: the key 'description' is given twice at the top level; "
                        + "keep one of them");
    }

    @Test
    void aNonIntegerWhereAnIntegerGoesIsRefusedWithTheIntegerToWrite(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("n.yaml");
        assertThat(message(dir, "n.yaml", MODEL + DATA + "train: {batch: 8, iterations: 2.5}\n"))
                .isEqualTo("invalid config " + f + ": train.iterations: 2.5 is not a whole number; write one, e.g. "
                        + "iterations: 2");
        assertThat(message(dir, "n.yaml", MODEL + DATA + "train: {batch: 8, iterations: 1e3}\n"))
                .isEqualTo("invalid config " + f + ": train.iterations: 1e3 is not a whole number as written; write it "
                        + "with digits only, e.g. iterations: 1000");
        assertThat(message(dir, "n.yaml", MODEL.replace("d_c: [2, 2]", "d_c: [2, 2.5]") + DATA + TRAIN))
                .isEqualTo("invalid config " + f + ": model.d_c[1]: 2.5 is not a whole number; write one, e.g. 2");
        assertThat(message(dir, "n.yaml", MODEL + DATA + "train: {batch: 8, iterations: 99999999999}\n"))
                .isEqualTo("invalid config " + f + ": train.iterations: 99999999999 is too large; the largest "
                        + "allowed is 2147483647");
        assertThat(message(dir, "n.yaml", MODEL + DATA + "train: {batch: 8, seed: 0.5}\n"))
                .contains("train.seed: 0.5 is not a whole number");
    }

    @Test
    void aValueOfTheWrongShapeSaysWhatGoesThereForEveryKey(@TempDir Path dir) throws Exception {
        // every key of every section, given each wrong shape of value: one line, no parser or Java names
        List<String> keys = new ArrayList<>();
        for (String section : new String[] {"model", "data", "train"}) {
            var node = RunConfig.JSON.readTree(Presets.load("demo").toJson()).path(section);
            node.fieldNames().forEachRemaining(k -> keys.add(section + "." + k));
        }
        for (String k : new String[] {"data.path", "data.cache", "data.train_limit", "data.test_limit", "data.holdout",
                "data.on_bad_image", "data.channels", "data.workers", "model.d_h", "model.d_w", "data.size"}) {
            if (!keys.contains(k)) keys.add(k);
        }
        assertThat(keys).hasSizeGreaterThan(30);
        String[] values = {"[1, 2]", "{a: 1}", "[]", "{}", "true", "abc", "2.5", "99999999999", "-1e400"};
        int checked = 0;
        for (String key : keys) {
            String section = key.substring(0, key.indexOf('.')), name = key.substring(key.indexOf('.') + 1);
            for (String v : values) {
                String yaml = (section.equals("model") ? "model: {" + name + ": " + v + "}\n" : MODEL)
                        + (section.equals("data") ? "data: {" + name + ": " + v + "}\n" : DATA)
                        + (section.equals("train") ? "train: {" + name + ": " + v + "}\n" : TRAIN);
                Path f = dir.resolve("k.yaml");
                Files.writeString(f, yaml);
                Throwable t = catchThrowable(() -> RunConfig.read(f).validate());
                if (t == null) continue; // a value that fits (a path may be "abc")
                String m = t.getMessage();
                assertThat(m).as(yaml).doesNotContain("\n");
                assertThat(INTERNALS.matcher(m).find()).as(yaml + " -> " + m).isFalse();
                if (!m.startsWith("invalid config " + f + ": " + key)) {
                    // a check after reading names the key in its own words
                    assertThat(m).as(yaml).contains(name);
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(200);
        // whole sections of the wrong shape
        for (String yaml : new String[] {"model: 5\n", "model: [1]\n", "train: abc\n", "data: [a, b]\n"}) {
            String m = message(dir, "s.yaml", yaml);
            assertThat(m).contains("a mapping");
        }
    }

    @Test
    void everyPresetReads() {
        for (String name : Presets.names()) Presets.load(name).validate();
        assertThat(Presets.names()).hasSizeGreaterThan(30);
    }

    @Test
    void valuesThatMakeNoRunAreRefused(@TempDir Path dir) throws Exception {
        assertThat(message(dir, "zero.yaml", MODEL + DATA + "train: {batch: 8, iterations: 0}\n"))
                .contains("iterations must be at least 1 (a run of 0 iterations trains nothing), got 0");
        assertThatThrownBy(() -> TrainConfig.defaults().toBuilder().iterations(0).build().validate())
                .hasMessageContaining("iterations must be at least 1");
    }
}
