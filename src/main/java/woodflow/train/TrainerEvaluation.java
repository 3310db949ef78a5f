package woodflow.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import woodflow.core.NumericalException;
import woodflow.data.ImageSource;
import woodflow.io.AtomicFiles;
import woodflow.model.MultiScaleFlow;
import woodflow.picture.ImageGrid;
import woodflow.sample.Sampler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@link Trainer}'s evaluations: the test bpd at iteration 0 and every {@code eval_every} iterations (sharded
 * over a data-parallel group, see {@link DataParallel#meanBitsPerDim}), each a metrics record and a new summary; an
 * improvement writes {@code best.safetensors}; and a grid of 16 samples at T = 0.7 under {@code samples/}.
 */
final class TrainerEvaluation {
    private final RunConfig config;
    private final Path runDir;
    private final ImageSource test;
    private final DataParallel group;
    private final boolean writer;
    private final RunLog log;

    /** {@code group}: null for a run of one process. */
    TrainerEvaluation(RunConfig config, Path runDir, ImageSource test, DataParallel group, RunLog log) {
        this.config = config;
        this.runDir = runDir;
        this.test = test;
        this.group = group;
        this.writer = group == null || group.rank() == 0;
        this.log = log;
    }

    /** The untrained model's test bpd, recorded at iteration 0. */
    void atStart(MultiScaleFlow model, RunState state, MetricsLog metrics) throws IOException {
        double bpd = testBitsPerDim(model);
        ObjectNode r = metrics.newRecord();
        r.put("iteration", 0).put("test_bpd", bpd);
        metrics.append(r);
        state.lastTest = bpd;
        state.lastTestIteration = 0;
    }

    /**
     * The evaluation at the current iteration: test bpd, summary, best checkpoint, sample grid. {@code evaluated} is
     * scored and sampled (the averaged weights when train.ema is on), {@code trained} (and Adam) go into the checkpoint.
     */
    void evaluate(MultiScaleFlow evaluated, MultiScaleFlow trained, Adam adam, RunState state,
                  TrainerCheckpoints checkpoints) throws IOException {
        TrainConfig tc = config.train();
        MultiScaleFlow model = evaluated;
        double bpd = testBitsPerDim(model);
        state.lastTest = bpd;
        state.lastTestIteration = state.iteration;
        boolean improved = Double.isFinite(bpd) && !(bpd >= state.best);
        if (improved) state.best = bpd;
        ObjectNode r = checkpoints.metrics().newRecord();
        r.put("iteration", state.iteration).put("test_bpd", bpd).put("best_test_bpd", state.best);
        checkpoints.metrics().append(r);
        checkpoints.writeSummary(SummaryStatus.RUNNING, state, trained.parameterCount());
        if (improved) checkpoints.saveBest(trained, adam, state);
        if (writer) {
            try (PointerScope scope = new PointerScope()) {
                Tensor s = Sampler.sample(model, 16, 0.7, config.data().nBits(), tc.seed() + 17);
                var m = config.model();
                // written here rather than by ImageGrid.write, so that a full disk reaches the loop as an IOException
                // and the error says up to which checkpoint the run is kept
                AtomicFiles.write(runDir.resolve("samples").resolve(String.format("iter-%08d-t0.7.png",
                        state.iteration)), ImageGrid.pngBytes(ImageGrid.renderLabelled(ImageGrid.images(s),
                        m.channels(), m.height(), m.width(), 8, ImageGrid.Labels.numbered("16 samples at T = 0.7, "
                                + "iteration " + state.iteration, 16, 8))));
            } catch (NumericalException e) {
                log.warn(e.getMessage());
            }
        }
        log.progress().message(String.format(Locale.ROOT, "iteration %d: test bpd %s (best %s)", state.iteration,
                woodflow.core.Figures.computed(bpd), woodflow.core.Figures.bpd(state.best)));
    }

    /** Mean test bpd; in a group, each rank evaluates its share of the batches and the sums are added up. */
    private double testBitsPerDim(MultiScaleFlow model) {
        TrainConfig tc = config.train();
        int nBits = config.data().nBits();
        if (group == null) {
            return Evaluator.meanBitsPerDim(model, test, test.size(), nBits, tc.evalBatch(), tc.evalSeed());
        }
        return group.meanBitsPerDim(model, test, nBits, tc.evalBatch(), tc.evalSeed());
    }
}
