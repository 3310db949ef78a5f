package woodflow.serve;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The dashboard's model worker: bounded requests, a bounded model cache, a queue that refuses rather than piles up. */
class ModelWorkerTest {
    @TempDir
    static Path dir;
    static Path best, last;

    @BeforeAll
    static void trainATinyRun() throws Exception {
        Path config = Files.writeString(dir.resolve("tiny.yaml"), DashboardBrowserTest.TINY.replace("SEED", "3"));
        Path run = dir.resolve("run");
        PrintStream out = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.execute("train", "--config", config.toString(), "--out", run.toString(), "--no-report",
                    "--quiet", "--threads", "1")).isZero();
        } finally {
            System.setOut(out);
        }
        best = run.resolve("checkpoints/best.safetensors");
        last = run.resolve("checkpoints/ckpt-00000010.safetensors");
    }

    @Test
    void samplesWithinBoundsAndKeepsModelsWithinTheMemoryBound() throws Exception {
        try (ModelWorker small = new ModelWorker(1, 4); ModelWorker large = new ModelWorker(1L << 30, 4)) {
            byte[] cold = small.samples(best, 0.7, 1, 4);
            byte[] hot = small.samples(best, 1.0, 1, 4);
            assertThat(cold).isNotEqualTo(hot);
            small.samples(last, 0.7, 1, 4);
            assertThat(small.cachedModels()).isEqualTo(1); // the bound holds: only the newest stays
            large.samples(best, 0.7, 1, 4);
            large.samples(last, 0.7, 1, 4);
            assertThat(large.cachedModels()).isEqualTo(2);
            assertThat(large.samples(best, 0.7, 1, 4)).isEqualTo(cold); // seeded: the same grid again
            // the temperatures `woodflow sample` takes: above 0, at most 10
            for (double t : new double[] {-0.1, 0, Double.NaN}) {
                assertThatThrownBy(() -> small.samples(best, t, 1, 4)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("temperature must be a finite number > 0");
            }
            assertThatThrownBy(() -> small.samples(best, 10.5, 1, 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("temperature 10.5 is too large");
            for (int n : new int[] {0, 65}) {
                assertThatThrownBy(() -> small.samples(best, 0.7, 1, n)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("count must be between 1 and 64");
            }
        }
    }

    @Test
    void theSamplerTakesAPrecisionAndDefaultsToBf16WhereItIsNative() throws Exception {
        assertThat(ModelWorker.defaultPrecision()).isEqualTo(
                woodflow.nn.Bf16Kernels.current() == woodflow.nn.Bf16Kernels.NATIVE
                        ? woodflow.core.Precision.BF16_MIXED : woodflow.core.Precision.FP32);
        try (ModelWorker worker = new ModelWorker(1L << 30, 4)) {
            byte[] fp32 = worker.samples(best, 0.7, 2, 8, woodflow.core.Precision.FP32);
            byte[] bf16 = worker.samples(best, 0.7, 2, 8, woodflow.core.Precision.BF16_MIXED);
            assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bf16)).getWidth()).isPositive();
            // the cached model is shared: each request runs in its own precision, whatever the one before asked for
            assertThat(worker.samples(best, 0.7, 2, 8, woodflow.core.Precision.FP32)).isEqualTo(fp32);
            assertThat(worker.samples(best, 0.7, 2, 8)).isEqualTo(
                    ModelWorker.defaultPrecision() == woodflow.core.Precision.FP32 ? fp32 : bf16);
        }
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        try (ModelWorker worker = new ModelWorker(1L << 30, 1)) {
            CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
            CompletableFuture<Object> running = CompletableFuture.supplyAsync(() -> call(worker, () -> {
                started.countDown();
                return release.await(30, TimeUnit.SECONDS);
            }));
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Object> queued = CompletableFuture.supplyAsync(() -> call(worker, () -> "queued"));
            while (worker.waiting() < 1) Thread.sleep(5);
            assertThatThrownBy(() -> worker.samples(best, 0.7, 1, 4)).isInstanceOf(ModelWorker.Busy.class)
                    .hasMessageContaining("busy");
            release.countDown();
            assertThat(running.get(30, TimeUnit.SECONDS)).isEqualTo(true);
            assertThat(queued.get(30, TimeUnit.SECONDS)).isEqualTo("queued");
        }
    }

    @Test
    void badAndOversizedImagesAreRefusedWithAReason() throws Exception {
        try (ModelWorker worker = new ModelWorker(1L << 30, 4)) {
            assertThatThrownBy(() -> worker.score(best, "not an image".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a readable image");
            assertThatThrownBy(() -> worker.score(best, pngHeader(100_000, 100_000)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("100000x100000 pixels");
            byte[] sample = worker.samples(best, 0.7, 1, 1);
            ModelWorker.Score s = worker.score(best, sample);
            assertThat(s.bpd()).isFinite().isPositive();
            assertThat(s.testBpd()).hasSize(16);
        }
    }

    private static Object call(ModelWorker worker, java.util.concurrent.Callable<Object> job) {
        try {
            return worker.run(job);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A PNG signature and header chunk announcing a huge image, with no pixel data. */
    private static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width)
                .putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        return ByteBuffer.allocate(8 + 4 + 17 + 4).put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10})
                .putInt(13).put(ihdr.array()).putInt((int) crc.getValue()).array();
    }
}
