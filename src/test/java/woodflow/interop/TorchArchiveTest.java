package woodflow.interop;

import woodflow.model.Permutation;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import woodflow.core.Init;
import woodflow.core.Tensors;
import woodflow.model.ModelConfig;
import woodflow.model.MultiScaleFlow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces of import/export that need no Python: the pickle rewrite, the archive round trip, the name mapping. */
class TorchArchiveTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void orderedDictsBecomePlainDictsAndTheirStateIsDropped() throws IOException {
        // protocol 2, as Python writes OrderedDict([("a", 1)]) with a _metadata attribute that is an OrderedDict too;
        // the key "b)R" holds the bytes of ")R" inside a string, which must stay as they are
        String in = "\u0080\u0002ccollections\nOrderedDict\nq\u0000)Rq\u0001X\u0003\u0000\u0000\u0000b)RK\u0001s"
                + "}q\u0002X\u0009\u0000\u0000\u0000_metadatah\u0000)Rq\u0003sb.";
        String out = "\u0080\u0002ccollections\nOrderedDict\nq\u0000\u0081}q\u0001X\u0003\u0000\u0000\u0000b)RK\u0001s"
                + "}q\u0002X\u0009\u0000\u0000\u0000_metadatah\u0000\u0081}q\u0003s\u0081.";
        assertThat(new String(PickleDicts.plainDicts(bytes(in), "test"), StandardCharsets.ISO_8859_1)).isEqualTo(out);
    }

    @Test
    void aPickleOfProtocolFourOrATruncatedOneIsRefusedWithTheReason() {
        assertThatThrownBy(() -> PickleDicts.plainDicts(bytes("\u0080\u0004\u008c\u0001a\u008c\u0001b\u0093."), "f"))
                .hasMessageContaining("protocol 4").hasMessageContaining("torch.save's default protocol");
        assertThatThrownBy(() -> PickleDicts.plainDicts(bytes("\u0080\u0002X\u0009\u0000\u0000\u0000abc"), "f"))
                .hasMessageContaining("truncated pickle");
    }

    @Test
    void aDictOfTensorsSurvivesWriteAndRead(@TempDir Path dir) throws IOException {
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("levels.0.0.1.ch.U", torch.randn(5, 3));
        state.put("levels.0.0.0.ready", torch.ones(new long[0]).to(torch.ScalarType.Long));
        Path f = dir.resolve("m.pt");
        Files.write(f, TorchArchive.write(state));
        TorchArchive.Contents back = TorchArchive.read(f);
        assertThat(back.tensors().keySet()).containsExactlyElementsOf(state.keySet());
        assertThat(back.tensors().get("levels.0.0.1.ch.U").equal(state.get("levels.0.0.1.ch.U"))).isTrue();
        assertThat(Tensors.dtype(back.tensors().get("levels.0.0.0.ready"))).isEqualTo(torch.ScalarType.Long);
    }

    @Test
    void blockCopiesOfByteVectorsAgreeWithTheElementAccessors() {
        byte[] bytes = new byte[100_003];
        new java.util.Random(5).nextBytes(bytes);
        org.bytedeco.pytorch.ByteVector v = TorchArchive.fromArray(bytes);
        assertThat(v.size()).isEqualTo(bytes.length);
        assertThat(v.get()).isEqualTo(bytes);
        assertThat(TorchArchive.toArray(v)).isEqualTo(bytes);
        assertThat(TorchArchive.toArray(TorchArchive.fromArray(new byte[] {7}))).containsExactly(7);
    }

    @Test
    void aFileThatIsNotATorchSaveZipIsNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("old.pt");
        Files.write(f, new byte[] {(byte) 0x80, 2, 'N', '.'});
        assertThatThrownBy(() -> TorchArchive.read(f)).hasMessageContaining("not a torch.save zip file");
        assertThatThrownBy(() -> TorchArchive.read(dir.resolve("none.pt"))).hasMessageContaining("does not exist");
    }

    @Test
    void everyNameOfWoodburyAndMeWoodburyModelsMapsToThePapersAndBack() {
        for (String p : new String[] {"woodbury", "me-woodbury"}) {
            ModelConfig cfg = ModelConfig.of(1, 8, 8, 2, 2, 4, Permutation.parse(p)).withLatentDims(new int[] {2, 2}, new int[] {2, 2},
                    new int[] {2, 2}, new int[] {2, 2});
            Map<String, Tensor> state = new MultiScaleFlow(cfg, Init.float32()).stateDict();
            Map<String, Tensor> paper = PaperStateDict.toPaper(state, cfg);
            assertThat(paper).hasSameSizeAs(state);
            for (String name : state.keySet()) {
                assertThat(PaperStateDict.woodflowName(PaperStateDict.paperName(name))).as(name).isEqualTo(name);
            }
            Map<String, Tensor> back = PaperStateDict.toWoodflow(paper, cfg, 1.0);
            assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(state.keySet());
            for (var e : state.entrySet()) {
                assertThat(Tensors.shape(back.get(e.getKey()))).as(e.getKey())
                        .isEqualTo(Tensors.shape(e.getValue()));
            }
        }
    }

    @Test
    void theOfficialLayoutRoundTripsAndHasTheOfficialNames() {
        for (String p : new String[] {"woodbury", "me-woodbury"}) {
            ModelConfig cfg = ModelConfig.of(1, 8, 8, 2, 2, 4, Permutation.parse(p)).withLatentDims(new int[] {2, 3}, new int[] {3, 2},
                    new int[] {2, 2}, new int[] {3, 3});
            torch.manual_seed(4);
            MultiScaleFlow model = new MultiScaleFlow(cfg, Init.float32());
            try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                for (Tensor t : model.parameters()) {
                    t.add_(torch.randn_like(t).mul(new org.bytedeco.pytorch.Scalar(0.1)));
                }
            }
            Map<String, Tensor> state = model.stateDict();
            Map<String, Tensor> official = PaperStateDict.toPaper(state, cfg, true);
            // K = 2: layers 0 squeeze, 1-2 steps, 3 split, 4 squeeze, 5-6 steps
            assertThat(official).containsKeys("flow.layers.1.actnorm.initialized", "flow.layers.6.affine.f.4.newbias",
                    "flow.layers.3.conv.logs", "flow.layers.5.affine.f.2.actnorm.logs", "latent_mean",
                    p.equals("woodbury") ? "flow.layers.2.conv.STrans.eye" : "flow.layers.2.conv.HTrans.eye");
            assertThat(Tensors.shape(official.get("flow.layers.3.conv.logs"))).containsExactly(4, 1, 1);
            assertThat(Tensors.dtype(official.get("flow.layers.1.actnorm.initialized")))
                    .isEqualTo(torch.ScalarType.Byte);
            Map<String, Tensor> back = PaperStateDict.toWoodflow(official, cfg, 1.0);
            assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(state.keySet());
            for (var e : state.entrySet()) {
                Tensor b = back.get(e.getKey());
                assertThat(b.reshape(-1).sub(e.getValue().reshape(-1)).abs().max().item_double()).as(e.getKey())
                        .isLessThan(1e-7);
            }
        }
    }

    @Test
    void theConv2dZerosScaleIsConvertedSoTheOutputsStayTheSame() {
        ModelConfig cfg = ModelConfig.of(1, 8, 8, 2, 1, 4, Permutation.WOODBURY);
        Map<String, Tensor> paper = new LinkedHashMap<>();
        paper.put("levels.0.0.2.net.4.logs", torch.full(new long[] {1, 2, 1, 1}, new org.bytedeco.pytorch.Scalar(0.3)));
        paper.put("priors.0.logs", torch.full(new long[] {1, 4, 1, 1}, new org.bytedeco.pytorch.Scalar(0.3)));
        // written by code with f = 3 (Glow's); woodflow's couplings use the config's f = 1, its split prior f = 1
        Map<String, Tensor> w = PaperStateDict.toWoodflow(paper, cfg, 3.0);
        assertThat(w.get("level0.step0.coupling.net.out.logs").max().item_double()).isCloseTo(0.9, within());
        assertThat(w.get("level0.split.prior.logs").max().item_double()).isCloseTo(0.9, within());
    }

    static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-6);
    }
}
