package woodflow.train;

import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Tensors;
import woodflow.data.ArraySource;
import woodflow.nn.ConvRouting;
import woodflow.nn.ConvShape;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fast convolution path that computes wrong numbers (as oneDNN's backward did on AMD Zen 5) must neither skip
 * steps nor go unnoticed: the start-up self-check routes a wrong shape to the reference path, and a step whose
 * gradient is non-finite on the fast path only is recomputed on the reference path.
 */
class FastPathFaultTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @AfterEach
    void clean() {
        ConvRouting.injectFault(null);
        ConvRouting.reset();
    }

    private record Run(Trainer.Result result, String output) {}

    private static Run train(RunConfig cfg, Path dir, java.util.function.LongPredicate clock) throws Exception {
        ArraySource train = TestData.squares(64, 1), test = TestData.squares(16, 2);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Trainer t = new Trainer(cfg, dir, train, test, out, false);
        if (clock != null) t.injectFaults(clock, it -> false);
        Trainer.Result r = t.run(false);
        return new Run(r, buf.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theSelfCheckRoutesAWrongShapeToTheReferencePathAndNoStepIsSkipped(@TempDir Path dir) throws Exception {
        // the coupling's first convolution of level 1 (2 -> 8 channels, 3x3, at 4x4): NaN input gradient
        ConvRouting.injectFault(ConvRouting.Fault.nanGradient(shape -> shape.in() == 2 && shape.out() == 8));
        Run run = train(TestData.tinyRun(20, 20), dir, null);
        assertThat(run.result().skippedSteps()).isZero();
        assertThat(run.output()).contains("warning: self-check: the fast convolution path (oneDNN) is wrong on this "
                + "CPU for 3x3 conv 2->8 at 4x4, batch 8, fp32, channels-last (non-finite input gradient");
        assertThat(ConvRouting.isReference(new ConvShape(8, 2, 8, 3, 3, 1, 1, 4, 4, ScalarType.Float, true))).isTrue();
        assertThat(ConvRouting.allReference()).as("only that shape").isFalse();
    }

    @Test
    void aStepWithANonFiniteGradientOnTheFastPathOnlyIsRecomputedOnTheReferencePath(@TempDir Path dir)
            throws Exception {
        AtomicBoolean armed = new AtomicBoolean();
        ConvRouting.injectFault(ConvRouting.Fault.nanGradient(shape -> armed.get()));
        Run run = train(TestData.tinyRun(20, 20), dir, it -> {
            if (it == 7) armed.set(true); // after the self-check: a fault it could not see
            return false;
        });
        assertThat(run.result().skippedSteps()).isZero();
        assertThat(run.output()).contains("warning: iteration 7: the fast convolution path (oneDNN) gave a non-finite "
                + "gradient where the reference path did not; every convolution now takes the reference path");
        assertThat(ConvRouting.allReference()).isTrue();
        assertThat(run.result().testBpd()).isFinite();
    }

    @Test
    void aHealthyMachineSaysSoInOneLine(@TempDir Path dir) throws Exception {
        Run run = train(TestData.tinyRun(10, 10), dir, null);
        assertThat(run.output()).containsPattern("self-check: the fast convolution path agrees with the reference "
                + "path on this CPU \\(\\d+ shapes");
        assertThat(run.output()).doesNotContain("warning");
        // the shapes checked are the training step's (batch 8) only, not the reference pass's chunks of 4
        assertThat(run.output()).containsPattern("on this CPU \\(7 shapes");
    }

    /**
     * The self-check's reference gradient is the mean of chunks of at most {@link woodflow.nn.Conv#REFERENCE_ROWS}
     * images (to bound its memory): on a healthy machine it matches the fast path's whole-batch gradient to float32
     * rounding, for a batch that splits evenly (6 = 2 x 3) and one that does not split at all (7 = 7 x 1).
     */
    @Test
    void theReferenceGradientTakenInChunksIsTheWholeBatchGradient() {
        assertThat(woodflow.nn.Conv.referenceChunk(16)).isEqualTo(4);
        assertThat(woodflow.nn.Conv.referenceChunk(6)).isEqualTo(3);
        assertThat(woodflow.nn.Conv.referenceChunk(7)).isEqualTo(1);
        assertThat(woodflow.nn.Conv.referenceChunk(2)).isEqualTo(2);
        assertThat(woodflow.nn.Conv.referenceChunk(1)).isEqualTo(1);
        for (int batch : new int[] {6, 7}) {
            try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                RunConfig cfg = TestData.tinyRun(1, 1);
                org.bytedeco.pytorch.global.torch.manual_seed(5);
                woodflow.model.MultiScaleFlow model = new woodflow.model.MultiScaleFlow(cfg.model(),
                        woodflow.core.Init.float32("cpu"));
                woodflow.train.Adam adam = new woodflow.train.Adam(model.namedParameters(), 0.9, 0.999, 1e-8, 0);
                TrainStep step = new TrainStep(model, adam, cfg.train(), cfg.data().nBits());
                ArraySource data = TestData.squares(batch, 3);
                java.util.List<byte[]> images = new java.util.ArrayList<>();
                for (int i = 0; i < batch; i++) images.add(data.image(i));
                org.bytedeco.pytorch.Tensor x = woodflow.data.Quantization.stack(images, 1, 8, 8);
                TrainStep.PathComparison c = step.compareWithReference(x, 0);
                assertThat(c.agrees()).as(c.problem()).isTrue();
                assertThat(c.relativeError()).as("batch " + batch).isLessThan(1e-5);
                assertThat(c.referenceLoss()).isCloseTo(c.fastLoss(), org.assertj.core.api.Assertions.within(1e-5));
            }
        }
    }
}
