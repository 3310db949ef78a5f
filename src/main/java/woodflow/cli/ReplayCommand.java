package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import woodflow.core.Tensors;
import woodflow.parity.ReferenceTrace;
import woodflow.train.Backprop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow replay}: replays a PyTorch reference training trace ({@link ReferenceTrace}) through woodflow. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a training trace recorded in PyTorch by scripts/reference_trace.py through woodflow's "
                + "training step and print the per-step loss differences and the largest parameter difference.",
                "Example: woodflow replay runs/trace/a.safetensors --backprop invertible"})
public final class ReplayCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "The trace (.safetensors).")
    Path trace;

    @Option(names = "--backprop", defaultValue = "standard", description = "standard (default) or invertible.")
    Backprop backprop;

    @Option(names = "--threads", defaultValue = "1", description = "libtorch threads (default 1, for reproducible "
            + "sums).")
    int threads;

    @Override
    public Integer call() throws Exception {
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        Tensors.threads(threads);
        ReferenceTrace t = ReferenceTrace.read(Files.readAllBytes(trace), trace.toString());
        t.print(t.replay(backprop), System.out);
        return 0;
    }
}
