package woodflow.train;

import woodflow.core.Precision;
import woodflow.model.Permutation;
import woodflow.data.ArraySource;
import woodflow.data.DataConfig;
import woodflow.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Tiny structured images and a tiny run config for trainer tests. */
final class TestData {
    private TestData() {}

    /** Trains {@code cfg} into {@code dir} on {@link #squares} (64 training images, 16 test), its log on stdout. */
    static Trainer.Result train(RunConfig cfg, java.nio.file.Path dir, boolean resume) throws Exception {
        return train(cfg, dir, resume, System.out);
    }

    /** As above, the log to {@code log} (null: none). */
    static Trainer.Result train(RunConfig cfg, java.nio.file.Path dir, boolean resume, java.io.PrintStream log)
            throws Exception {
        Trainer t = new Trainer(cfg, dir, squares(64, 1), squares(16, 2), log, true);
        Trainer.Result r = t.run(resume);
        t.finish();
        return r;
    }

    /** {@code n} 1x8x8 images: a bright square at a random place on a dark, slightly noisy background. */
    static ArraySource squares(int n, long seed) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] im = new byte[64];
            int x0 = r.nextInt(5), y0 = r.nextInt(5);
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    boolean in = x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 3;
                    im[y * 8 + x] = (byte) (in ? 200 + r.nextInt(40) : 20 + r.nextInt(20));
                }
            }
            out.add(im);
        }
        return new ArraySource(out, 1, 8, 8, "squares");
    }

    static RunConfig tinyRun(int iterations, int evalEvery) {
        ModelConfig m = ModelConfig.of(1, 8, 8, 2, 1, 8, Permutation.WOODBURY)
                .withLatentDims(new int[] {2, 2}, new int[] {2, 2}, null, null);
        TrainConfig t = TrainConfig.defaults().toBuilder().iterations(iterations).batch(8).seed(3L)
                .precision(Precision.FP32).backprop(Backprop.STANDARD).evalEvery(evalEvery).checkpointEvery(evalEvery)
                .logEvery(5).build();
        return new RunConfig("test", m, DataConfig.embedded(), t);
    }
}
