package woodflow.distributed;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import woodflow.core.Tensors;

import java.net.ServerSocket;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The backend follows the model's device (Gloo for CPU tensors, NCCL for CUDA tensors), and the group's own tensors
 * are made on that device: the GPU path is the same code as the CPU path, with another backend.
 */
class CollectiveBackendTest {
    @BeforeAll
    static void load() {
        Tensors.load();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static DistConfig alone(int port) {
        return new DistConfig("127.0.0.1", port, 0, 1, 0, 10_000, "127.0.0.1");
    }

    @Test
    void theBackendIsChosenByTheDevice() {
        assertThat(CollectiveBackend.forDevice("cpu")).isEqualTo(CollectiveBackend.GLOO);
        assertThat(CollectiveBackend.forDevice("cuda")).isEqualTo(CollectiveBackend.NCCL);
        assertThat(CollectiveBackend.forDevice("cuda:3")).isEqualTo(CollectiveBackend.NCCL);
        assertThat(CollectiveBackend.NCCL.label()).isEqualTo("nccl");
        assertThatThrownBy(() -> CollectiveBackend.forDevice("tpu")).hasMessageContaining("no data-parallel backend "
                + "for device 'tpu'");
    }

    @Test
    void aCpuGroupRunsOnGlooWithItsTensorsOnTheCpu() throws Exception {
        try (DistContext c = DistContext.join(alone(freePort()), "cpu")) {
            assertThat(c.backend()).isEqualTo(CollectiveBackend.GLOO);
            assertThat(c.sum(1.5, 2.0)).containsExactly(1.5, 2.0);
            c.barrier();
            Tensor p = torch.ones(3).requires_grad_(true);
            p.mul(Tensors.s(2)).sum().backward();
            assertThat(c.averageGradients(List.of(p), 0.25)).isEqualTo(0.25);
            assertThat(Tensors.toDoubles(p.grad())).containsExactly(2, 2, 2);
        }
    }

    @Test
    void aCudaGroupAsksForNccl() throws Exception {
        // this build has no CUDA: the NCCL group cannot be made, and the error names the backend that was chosen
        assertThatThrownBy(() -> DistContext.join(alone(freePort()), "cuda")).isInstanceOf(DistException.class)
                .hasMessageContaining("setting up the nccl group failed");
    }
}
