package woodflow.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.io.SafeTensors;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;

import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Step-for-step parity with the paper's model in PyTorch. {@code scripts/reference_trace.py} ran the yardstick's
 * own Glow classes ({@code ../shared/yardstick/torch_glow.py}) for a few Adam steps and stored its state after
 * ActNorm's initialisation, the dequantised input of every step, the loss of every step and the parameters after
 * the last. Here woodflow's model, loaded with that state, takes the same steps through the trainer's
 * {@link TrainStep} (standard and invertible backprop) and must give the same losses and end at the same
 * parameters, to float32 rounding. Any difference in a formula, an initialisation convention, a parameter's role,
 * the loss's normalisation or Adam would show within a step or two.
 */
class ReferenceParityTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    @ParameterizedTest(name = "{0}, {1} backprop")
    @CsvSource({"woodbury, standard", "me-woodbury, standard", "woodbury, invertible", "me-woodbury, invertible"})
    void trainingStepsMatchThePyTorchReference(String permutation, String backprop) throws Exception {
        SafeTensors.Contents trace;
        try (InputStream in = getClass().getResourceAsStream("/reference/" + permutation + ".safetensors")) {
            assertThat(in).as("trace resource for " + permutation).isNotNull();
            trace = SafeTensors.read(in.readAllBytes(), permutation + " trace");
        }
        Map<String, String> meta = trace.metadata();
        assertThat(meta.get("permutation")).isEqualTo(permutation);
        String[] shape = meta.get("shape").split(",");
        int d = Integer.parseInt(meta.get("d"));
        int levels = Integer.parseInt(meta.get("L"));
        int[] dims = new int[levels];
        java.util.Arrays.fill(dims, d);
        ModelConfig cfg = ModelConfig.of(Integer.parseInt(shape[0]), Integer.parseInt(shape[1]),
                        Integer.parseInt(shape[2]), levels, Integer.parseInt(meta.get("K")),
                        Integer.parseInt(meta.get("hidden")), permutation)
                .withLatentDims(dims, dims, dims, dims);
        double[] losses = new ObjectMapper().readValue(meta.get("losses"), double[].class);

        try (PointerScope scope = new PointerScope()) {
            MultiScaleFlow model = new MultiScaleFlow(cfg, Init.float32());
            Map<String, Tensor> init = new LinkedHashMap<>();
            trace.tensors().forEach((k, v) -> {
                if (k.startsWith("init.")) init.put(k.substring(5), v.reshape(model.stateDict().get(k.substring(5)).sizes()));
            });
            assertThat(init.keySet()).as("the reference names every parameter and buffer")
                    .containsExactlyInAnyOrderElementsOf(model.stateDict().keySet());
            model.loadStateDict(init);
            model.train(true);

            TrainConfig tc = TrainConfig.defaults().with(null, null, null, null, backprop);
            Adam adam = new Adam(model.namedParameters(), tc.beta1(), tc.beta2(), tc.eps(), tc.weightDecay());
            TrainStep step = new TrainStep(model, adam, tc, 8);
            double worstLoss = 0;
            for (int i = 0; i < losses.length; i++) {
                double loss = step.runDequantized(trace.tensors().get("x" + i), 1e-3);
                worstLoss = Math.max(worstLoss, Math.abs(loss - losses[i]));
                assertThat(loss).as("loss of step %d", i).isCloseTo(losses[i], org.assertj.core.data.Offset.offset(1e-5));
            }
            double worstParam = 0;
            for (Map.Entry<String, Tensor> p : model.namedParameters().entrySet()) {
                Tensor ref = trace.tensors().get("final." + p.getKey());
                assertThat(ref).as("reference value of " + p.getKey()).isNotNull();
                double diff = p.getValue().sub(ref.reshape(p.getValue().sizes())).abs().max().item_double();
                worstParam = Math.max(worstParam, diff);
                assertThat(diff).as("parameter %s after %d steps", p.getKey(), losses.length).isLessThan(2e-6);
            }
            System.out.printf("%s/%s: %d steps, largest loss difference %.2e, largest parameter difference %.2e%n",
                    permutation, backprop, losses.length, worstLoss, worstParam);
        }
    }
}
