package woodflow.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.io.SafeTensors;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static woodflow.cli.CliTest.cli;

/**
 * Bad input through the command line, each case checked for its one-line reason and exit code (never an engine stack
 * trace): missing, truncated and corrupt data files (IDX, gzip, CIFAR-10, undecodable images with on_bad_image skip
 * and fail), images of the wrong size or channel count, an empty data set, impossible or mistyped configs, a
 * checkpoint of another architecture, bad temperatures, unwritable outputs. The cases CliTest already covers are not
 * repeated here.
 */
class BadInputTest {
    static final String MODEL = "{channels: 1, height: 8, width: 8, levels: 2, steps: 1, hidden: 8, "
            + "permutation: woodbury, d_c: [2, 2], d_s: [4, 4]}";
    static Path root;
    static Path run;

    static String config(String model, String data, String train) {
        return "model: " + model + "\ndata: " + data + "\ntrain: {" + woodflow.train.FlowMappings.merge("batch: 8, "
                + "iterations: 4, eval_every: 5, checkpoint_every: 5, log_every: 2, seed: 1", train) + "}\n";
    }

    static Path write(String name, String yaml) throws Exception {
        Path p = root.resolve(name + ".yaml");
        Files.writeString(p, yaml);
        return p;
    }

    static CliTest.Outcome train(Path cfg, String... extra) {
        String[] args = {"train", "--config", cfg.toString(), "--out", root.resolve("out-" + cfg.getFileName())
                .toString(), "--no-report"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return cli(all);
    }

    static void fails(CliTest.Outcome o, String... reasons) {
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(1);
        assertThat(o.err()).startsWith("woodflow: error: ").contains(reasons);
        assertThat(o.err().strip().lines().count()).as("one line: " + o.err()).isEqualTo(1);
        assertThat(o.err()).doesNotContain("Exception raised from").doesNotContain("\tat ")
                .doesNotContain("RuntimeException");
    }

    @BeforeAll
    static void trainOneRun(@TempDir Path dir) throws Exception {
        root = dir;
        run = dir.resolve("run");
        Path cfg = write("good", config(MODEL, "{kind: embedded, count: 64, holdout: 16}", "iterations: 5"));
        CliTest.Outcome o = cli("train", "--config", cfg.toString(), "--out", run.toString(), "--no-report");
        assertThat(o.code()).as(o.err()).isZero();
    }

    /** An IDX image file: magic 0x00000803, then N, H, W big-endian, then the pixels. */
    static byte[] idx(int magic, int n, int h, int w, int pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels);
        b.putInt(magic).putInt(n).putInt(h).putInt(w);
        Random r = new Random(n);
        for (int i = 0; i < pixels; i++) b.put((byte) r.nextInt(256));
        return b.array();
    }

    static Path idxDir(String name, byte[] train, byte[] test) throws Exception {
        Path d = Files.createDirectories(root.resolve(name));
        if (train != null) Files.write(d.resolve("train-images-idx3-ubyte"), train);
        if (test != null) Files.write(d.resolve("t10k-images-idx3-ubyte"), test);
        return d;
    }

    static CliTest.Outcome trainIdx(Path dir, String model) throws Exception {
        return train(write(dir.getFileName().toString(), config(model, "{kind: idx, path: " + dir + "}", "")));
    }

    @Test
    void idxFilesMissingCorruptTruncatedEmptyOrOfTheWrongShape() throws Exception {
        byte[] good = idx(0x803, 16, 8, 8, 16 * 64);
        Path d = idxDir("idx-missing", good, null);
        fails(trainIdx(d, MODEL), d.resolve("t10k-images-idx3-ubyte") + ": file not found");

        d = idxDir("idx-labels", idx(0x801, 16, 8, 8, 16 * 64), good);
        fails(trainIdx(d, MODEL), "wrong IDX magic number 0x00000801, expected 0x00000803");

        d = idxDir("idx-truncated", Arrays.copyOf(good, 16 + 10 * 64), good);
        fails(trainIdx(d, MODEL), "truncated, 656 bytes but the header (16 images of 8x8) needs 1040");

        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(good);
        }
        d = idxDir("idx-gz", null, good);
        byte[] cut = gz.toByteArray();
        Files.write(d.resolve("train-images-idx3-ubyte.gz"), Arrays.copyOf(cut, cut.length / 2));
        fails(trainIdx(d, MODEL), "truncated gzip stream");

        d = idxDir("idx-empty", idx(0x803, 0, 8, 8, 0), good);
        fails(trainIdx(d, MODEL), "the training set is empty");

        d = idxDir("idx-10x10", idx(0x803, 4, 10, 10, 400), idx(0x803, 4, 10, 10, 400));
        fails(trainIdx(d, MODEL), "cannot pad 10x10 images to 8x8");

        d = idxDir("idx-grey", good, good);
        fails(trainIdx(d, MODEL.replace("channels: 1", "channels: 3")),
                "the training images are 1x8x8 but the model expects 3x8x8");
    }

    @Test
    void cifarBatchesOfTheWrongLengthOrMissing() throws Exception {
        Path d = Files.createDirectories(root.resolve("cifar"));
        for (String n : new String[] {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                "test_batch"}) {
            Files.write(d.resolve(n + ".bin"), new byte[3073 * 2]);
        }
        Files.write(d.resolve("data_batch_3.bin"), new byte[3073 * 2 + 5]);
        String model = "{channels: 3, height: 32, width: 32, levels: 2, steps: 1, hidden: 8}";
        Path cfg = write("cifar", config(model, "{kind: cifar10, path: " + d + "}", ""));
        fails(train(cfg), d.resolve("data_batch_3.bin") + ": length 6151 is not a multiple of 3073");
        Files.delete(d.resolve("data_batch_3.bin"));
        fails(train(cfg), d.resolve("data_batch_3.bin") + ": CIFAR-10 batch file not found");
    }

    static byte[] png(Random r) throws Exception {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.getRaster().setSample(x, y, 0, r.nextInt(256));
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(img, "png", b);
        return b.toByteArray();
    }

    @Test
    void undecodableImagesAreSkippedAndCountedOrFatal() throws Exception {
        Path d = root.resolve("folder");
        Files.createDirectories(d.resolve("train"));
        Files.createDirectories(d.resolve("test"));
        Random r = new Random(2);
        for (int i = 0; i < 10; i++) Files.write(d.resolve("train/img" + i + ".png"), png(r));
        for (int i = 0; i < 4; i++) Files.write(d.resolve("test/img" + i + ".png"), png(r));
        Files.writeString(d.resolve("train/broken.png"), "not a png at all");
        String data = "{kind: folder, path: " + d + ", on_bad_image: %s}";
        fails(train(write("folder-fail", config(MODEL, data.formatted("fail"), ""))),
                d.resolve("train/broken.png").toString(), "set data.on_bad_image to \"skip\"");

        CliTest.Outcome skip = train(write("folder-skip", config(MODEL, data.formatted("skip"), "")));
        assertThat(skip.code()).as(skip.err()).isZero();
        assertThat(skip.out()).contains("10 images resized to 1x8x8, 1 undecodable skipped")
                .contains("done: 4 iterations");

        // a valid header but a cut-off body: found only when the image is decoded during training
        byte[] whole = png(r);
        Files.delete(d.resolve("train/broken.png"));
        Files.write(d.resolve("train/cut.png"), Arrays.copyOf(whole, 40));
        fails(train(write("folder-cut-fail", config(MODEL, data.formatted("fail"), ""))),
                d.resolve("train/cut.png").toString());
        CliTest.Outcome cutSkip = train(write("folder-cut-skip", config(MODEL, data.formatted("skip"), "")));
        assertThat(cutSkip.code()).as(cutSkip.err()).isZero();
        assertThat(cutSkip.out()).contains("data: folder " + d.resolve("train") + ": 11 images resized to 1x8x8, "
                + "1 undecodable skipped");
    }

    @Test
    void impossibleOrMistypedConfigs() throws Exception {
        String data = "{kind: embedded, count: 64, holdout: 16}";
        fails(train(write("unknown-top", config(MODEL, data, "") + "optimiser: adam\n")),
                "unknown key 'optimiser' at top level (known keys: ");
        fails(train(write("unknown-nested", config(MODEL, data, "lr_decay: 0.5"))),
                "unknown key 'lr_decay' at train (known keys: ", "max_bad_steps");
        fails(train(write("mistyped", config(MODEL, data, "batch: many"))), "invalid config",
                "train.batch: the text 'many' where a whole number goes; write e.g. batch: 16");
        fails(train(write("mistyped-list", config(MODEL.replace("d_c: [2, 2]", "d_c: [2, x]"), data, ""))),
                "model.d_c[1]: ");
        fails(train(write("zero-batch", config(MODEL, data, "keep_checkpoints: 0, max_bad_steps: 0")
                .replace("batch: 8", "batch: 0"))), "batch must be at least 1, got 0",
                "keep_checkpoints must be at least 1, got 0", "max_bad_steps must be at least 1, got 0");
        fails(train(write("syntax", "model: {channels: 1\ntrain: [")), "invalid config");
        fails(train(write("temperatures", config(MODEL, data, "temperatures: [0.7, 0]"))),
                "temperatures must be finite and > 0, got 0.0");
        fails(train(write("empty-holdout", config(MODEL, "{kind: embedded, count: 0, holdout: 16}", ""))),
                "the training set is empty");
    }

    @Test
    void aCheckpointOfAnotherArchitectureNamesWhatDiffers() throws Exception {
        Path other = write("other-arch", config(MODEL.replace("hidden: 8", "hidden: 16"),
                "{kind: embedded, count: 64, holdout: 16}", "iterations: 10"));
        fails(cli("train", "--config", other.toString(), "--out", run.toString(), "--resume", "--no-report"),
                "checkpoint " + run.resolve("checkpoints/ckpt-00000005.safetensors") + " was written by a different "
                        + "model than this run's config describes: model.hidden is 8 in the checkpoint, 16 in --config "
                        + other + " (14 saved tensors do not fit)", "resume with the run's own config");

        // a file whose stored config says hidden 16 but whose tensors were trained with hidden 8
        byte[] bytes = Files.readAllBytes(run.resolve("checkpoints/ckpt-00000005.safetensors"));
        SafeTensors.Contents c = SafeTensors.read(bytes, "test");
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        meta.put("config", meta.get("config").replace("\"hidden\" : 8", "\"hidden\" : 16"));
        assertThat(meta.get("config")).contains("\"hidden\" : 16");
        Path mixed = root.resolve("mixed.safetensors");
        Files.write(mixed, SafeTensors.write(c.tensors(), meta));
        fails(cli("eval", "--checkpoint", mixed.toString()), "checkpoint " + mixed + ": the saved state does not "
                + "fit this model (", "differences; the first 3: ", "the model expects [16, ");
    }

    @Test
    void badTemperaturesAndUnwritableOutputs() throws Exception {
        fails(cli("sample", "--checkpoint", run.toString(), "--sweep", "0.5,-1", "--out",
                root.resolve("s.png").toString()), "temperature must be a finite number > 0");
        Path file = root.resolve("a-file");
        Files.writeString(file, "x");
        Path cfg = write("to-file", config(MODEL, "{kind: embedded, count: 64, holdout: 16}", ""));
        fails(cli("train", "--config", cfg.toString(), "--out", file.resolve("run").toString()),
                "cannot create the run folder " + file.resolve("run") + ": " + file.toAbsolutePath()
                        + " is a file, not a folder; choose another --out");
        Path images = Files.createDirectories(root.resolve("score-images"));
        Files.write(images.resolve("a.png"), png(new Random(1)));
        fails(cli("score", "--checkpoint", run.toString(), "--images", images.toString(), "--out",
                file.resolve("scores.csv").toString()), "cannot write " + file.resolve("scores.csv"));
        fails(cli("soak", "--cycles", "1", "--out", run.toString()), "--out " + run + " holds other files (this command "
                + "needs a new or empty folder)");
    }

    @Test
    void doctorRefusesWhatItCannotCheck() {
        fails(cli("doctor", "--preset", "demoo"), "unknown preset 'demoo'; did you mean demo?");
        fails(cli("doctor", "--batch", "0"), "--batch must be at least 1, got 0");
        fails(cli("doctor", "--preset", "demo", "--config", "x.yaml"), "give --preset or --config, not both");
        // a closed choice's typo is a usage error (exit 2), on one line with the names and the nearest one
        CliTest.Outcome typo = cli("doctor", "--precision", "bf16");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err().strip()).isEqualTo("woodflow: error: Invalid value for option '--precision': unknown "
                + "precision 'bf16': use fp32 or bf16-mixed; did you mean bf16-mixed?");
        fails(cli("soak", "--preset", "demo", "--config", "x.yaml"), "give --config or --preset, not both");
    }
}
