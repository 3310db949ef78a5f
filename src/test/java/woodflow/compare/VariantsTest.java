package woodflow.compare;

import woodflow.model.CouplingType;
import woodflow.model.Permutation;
import woodflow.model.Permutation;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import woodflow.model.ModelConfig;
import woodflow.train.Presets;
import woodflow.train.RunConfig;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Method names, ablation variants, bases and budgets: what each study run is made of (no training here). */
class VariantsTest {
    private static final RunConfig BASE = Presets.load("fmnist-woodbury");

    private static JsonNode json(Object o) {
        return RunConfig.JSON.valueToTree(o);
    }

    @Test
    void methodsSwapOnlyThePermutationAndTheCoupling() {
        String[][] expected = {{"woodbury", "woodbury", "affine"}, {"me-woodbury", "me-woodbury", "affine"},
                {"glow-1x1", "conv1x1", "affine"}, {"glow-lu", "conv1x1-lu", "affine"},
                {"emerging", "emerging", "affine"}, {"periodic", "periodic", "affine"},
                {"spline", "conv1x1", "spline"}, {"macow", "conv1x1", "macow"}, {"additive", "conv1x1", "additive"}};
        assertThat(Methods.names()).hasSize(expected.length);
        for (String[] e : expected) {
            ModelConfig m = Methods.of(e[0]).apply(BASE.model());
            assertThat(m.permutation().label()).as(e[0]).isEqualTo(e[1]);
            assertThat(m.coupling().label()).as(e[0]).isEqualTo(e[2]);
            // everything else is the base's
            assertThat(json(m.withPermutation(Permutation.WOODBURY).withCoupling(CouplingType.AFFINE))).isEqualTo(json(BASE.model()));
        }
        List<Variant> v = Methods.variants(Methods.parse("woodbury, glow"), BASE);
        assertThat(v).extracting(Variant::name).containsExactly("woodbury", "glow-1x1");
        assertThat(v.get(0).config().train()).isEqualTo(v.get(1).config().train());
        assertThat(v.get(0).config().data()).isEqualTo(v.get(1).config().data());
        assertThatThrownBy(() -> Methods.parse("woodbury,flowpp")).hasMessageContaining("unknown method 'flowpp'")
                .hasMessageContaining("glow-1x1");
        assertThatThrownBy(() -> Methods.parse("glow,glow-1x1")).hasMessageContaining("listed twice");
    }

    @Test
    void paperSizesTakeEachMethodsModelFromItsPresetAndEverythingElseFromTheBase() {
        RunConfig base = Bases.resolve("cifar10", null);
        List<Variant> v = Methods.variantsFromPresets(Methods.parse("woodbury,spline,macow"), base,
                Bases.dataPrefix("cifar10"));
        assertThat(v).extracting(x -> x.config().model().hidden()).containsExactly(512, 256, 384);
        assertThat(v).extracting(x -> x.config().model().coupling())
                .containsExactly(CouplingType.AFFINE, CouplingType.SPLINE, CouplingType.MACOW);
        for (Variant x : v) {
            assertThat(json(x.config().train())).isEqualTo(json(base.train()));
            assertThat(json(x.config().data())).isEqualTo(json(base.data()));
        }
        assertThatThrownBy(() -> Methods.variantsFromPresets(Methods.parse("additive"), base, "cifar10"))
                .hasMessageContaining("needs the preset cifar10-additive");
    }

    @Test
    void ablationSetsOneParameterAtEveryLevel() {
        Methods.Method me = Methods.of("me-woodbury");
        List<Variant> d = Ablation.variants(me, BASE, Ablation.Parameter.D, List.of(2, 32));
        assertThat(d).extracting(Variant::name).containsExactly("me-woodbury-d2", "me-woodbury-d32");
        assertThat(d).extracting(Variant::label).containsExactly("2", "32");
        ModelConfig m = d.get(1).config().model();
        assertThat(m.permutation()).isEqualTo(Permutation.ME_WOODBURY);
        for (int[] dims : new int[][] {m.dC(), m.dS(), m.dH(), m.dW()}) assertThat(dims).containsExactly(32, 32);
        ModelConfig k = Ablation.variants(Methods.of("glow-1x1"), BASE, Ablation.parameter("k"), List.of(3)).get(0).config().model();
        assertThat(k.steps()).isEqualTo(3);
        assertThat(k.permutation()).isEqualTo(Permutation.CONV1X1);
        ModelConfig h = Ablation.variants(Methods.of("woodbury"), BASE, Ablation.Parameter.HIDDEN, List.of(16)).get(0).config().model();
        assertThat(h.hidden()).isEqualTo(16);
        assertThat(h.steps()).isEqualTo(BASE.model().steps());
        assertThatThrownBy(() -> Ablation.variants(Methods.of("glow-1x1"), BASE, Ablation.Parameter.D, List.of(2)))
                .hasMessageContaining("has no Woodbury layer");
        assertThatThrownBy(() -> Ablation.parameter("lr")).hasMessageContaining("unknown ablation parameter 'lr'");
        assertThatThrownBy(() -> Ablation.values("2,x")).hasMessageContaining("whole numbers");
        assertThatThrownBy(() -> Ablation.values("2,2")).hasMessageContaining("listed twice");
        assertThat(Ablation.values("2, 4,8")).containsExactly(2, 4, 8);
    }

    @Test
    void everyDataSetOfAStudyHasItsBasePresetAndEveryWoodburyPresetItsDataSet() {
        for (Bases.Data d : Bases.Data.values()) {
            assertThat(woodflow.train.Presets.names()).as(d.label()).contains(d.basePreset());
        }
        for (String p : woodflow.train.Presets.names()) {
            if (p.endsWith("-woodbury") && !p.endsWith("-me-woodbury")) {
                assertThat(Bases.Data.values()).as(p).anyMatch(d -> d.basePreset().equals(p));
            }
        }
    }

    @Test
    void basesAndBudgets() {
        assertThat(json(Bases.resolve("fmnist", null))).isEqualTo(json(BASE));
        assertThat(Bases.resolve("embedded", null).data().kind()).isEqualTo(woodflow.data.DataKind.EMBEDDED);
        assertThat(Bases.resolve("cifar10", null).model().permutation()).isEqualTo(Permutation.WOODBURY);
        assertThat(Bases.dataNames()).contains("embedded", "fmnist", "cifar10", "imagenet64").doesNotContain(
                "cifar10-me");
        assertThatThrownBy(() -> Bases.resolve("mnist8", null)).hasMessageContaining("unknown --data 'mnist8'");
        assertThatThrownBy(() -> Bases.resolve("fmnist", "demo")).hasMessageContaining("not both");
        assertThatThrownBy(() -> Bases.resolve(null, null)).hasMessageContaining("--data");

        Budget it = Budget.ofIterations(200), time = Budget.ofMinutes(1.5);
        assertThat(it.apply(BASE.train()).iterations()).isEqualTo(200);
        assertThat(it.isMet(200, 0)).isTrue();
        assertThat(it.isMet(199, 1e9)).isFalse();
        assertThat(time.isMet(1_000_000, 89.9)).isFalse();
        assertThat(time.isMet(1, 90)).isTrue();
        assertThat(Budget.decode(time.encode())).isEqualTo(time);
        assertThat(Budget.decode(it.encode())).isEqualTo(it);
        assertThatThrownBy(() -> new Budget(10, 1.0)).hasMessageContaining("not both");
        assertThatThrownBy(() -> Budget.ofMinutes(0)).hasMessageContaining("positive");
    }
}
