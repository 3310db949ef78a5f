package woodflow.parity;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import woodflow.core.Tensors;
import woodflow.train.Backprop;

import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Step-for-step parity with the paper's model in PyTorch. {@code scripts/reference_trace.py} ran the yardstick's
 * own Glow classes ({@code ../shared/yardstick/torch_glow.py}) for a few Adam steps and stored its state after
 * ActNorm's initialisation, the dequantised input of every step, the loss of every step and the parameters after
 * the last ({@link ReferenceTrace}). woodflow's model, loaded with that state, takes the same steps through the
 * trainer's {@link TrainStep} (standard and invertible backprop) and must give the same losses and end at the same
 * parameters, to float32 rounding. A difference in a formula, an initialisation convention, a parameter's role, the
 * loss's normalisation or Adam shows within a step or two (Adam's eps at 1e-6 instead of 1e-8 already fails).
 */
class ReferenceParityTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @ParameterizedTest(name = "{0}, {1} backprop")
    @CsvSource({"woodbury, standard", "me-woodbury, standard", "woodbury, invertible", "me-woodbury, invertible"})
    void trainingStepsMatchThePyTorchReference(String permutation, String backprop) throws Exception {
        ReferenceTrace trace;
        try (InputStream in = getClass().getResourceAsStream("/reference/" + permutation + ".safetensors")) {
            assertThat(in).as("trace resource for " + permutation).isNotNull();
            trace = ReferenceTrace.read(in.readAllBytes(), permutation + " trace");
        }
        assertThat(trace.config().permutation().label()).isEqualTo(permutation);
        ReferenceTrace.Replay r = trace.replay(Backprop.parse(backprop));
        for (int i = 0; i < trace.steps(); i++) {
            assertThat(r.ours()[i]).as("loss of step %d", i).isCloseTo(r.reference()[i], within(1e-5));
        }
        assertThat(r.largestParameterDifference()).as("parameters after %d steps", trace.steps()).isLessThan(2e-6);
    }

    @org.junit.jupiter.api.Test
    void aFileThatIsNotATraceOrDoesNotFitTheModelIsRefusedWithTheReason() throws Exception {
        byte[] empty = woodflow.io.SafeTensors.write(java.util.Map.of(), java.util.Map.of());
        assertThatThrownBy(() -> ReferenceTrace.read(empty, "x.safetensors"))
                .hasMessageContaining("not a reference trace");

        byte[] good;
        try (InputStream in = getClass().getResourceAsStream("/reference/woodbury.safetensors")) {
            good = in.readAllBytes();
        }
        woodflow.io.SafeTensors.Contents c = woodflow.io.SafeTensors.read(good, "trace");
        java.util.Map<String, org.bytedeco.pytorch.Tensor> tensors = new java.util.LinkedHashMap<>(c.tensors());
        tensors.put("init.level0.bogus", org.bytedeco.pytorch.global.torch.zeros(1));
        ReferenceTrace extra = ReferenceTrace.read(woodflow.io.SafeTensors.write(tensors, c.metadata()), "trace");
        assertThatThrownBy(() -> extra.replay(Backprop.STANDARD))
                .hasMessageContaining("the trace has level0.bogus, the model does not");

        java.util.Map<String, org.bytedeco.pytorch.Tensor> missingInit = new java.util.LinkedHashMap<>(c.tensors());
        String dropped = missingInit.keySet().stream().filter(k -> k.startsWith("init.")).findFirst().orElseThrow();
        missingInit.remove(dropped);
        ReferenceTrace fewer = ReferenceTrace.read(woodflow.io.SafeTensors.write(missingInit, c.metadata()), "trace");
        assertThatThrownBy(() -> fewer.replay(Backprop.STANDARD)).hasMessageContaining("the trace's state names");

        java.util.Map<String, org.bytedeco.pytorch.Tensor> missingFinal = new java.util.LinkedHashMap<>(c.tensors());
        missingFinal.keySet().removeIf(k -> k.startsWith("final."));
        ReferenceTrace noFinal = ReferenceTrace.read(woodflow.io.SafeTensors.write(missingFinal, c.metadata()), "trace");
        assertThatThrownBy(() -> noFinal.replay(Backprop.STANDARD)).hasMessageContaining("the trace has no final value of");
    }
}
