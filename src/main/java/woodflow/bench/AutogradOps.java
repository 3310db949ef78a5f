package woodflow.bench;

import org.bytedeco.pytorch.Edge;
import org.bytedeco.pytorch.EdgeVector;
import org.bytedeco.pytorch.Node;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The operations of a training step, counted deterministically: the nodes of the autograd graph behind a loss, by
 * name. Every differentiable operation of the forward pass leaves one node, and the backward pass runs one
 * backward function per node (its kernels: usually one to three), so the count tracks the dispatcher calls of both
 * passes without the timing noise of a shared machine. {@code AccumulateGrad} nodes are the parameters (and leaves
 * requiring grad), one per tensor. Operations done without gradient (the dequantisation, the update) are not in it.
 *
 * <p>The libtorch profiler is not reachable through the JavaCPP presets (no {@code enableProfiler}, and the
 * record-function callbacks take C++ function objects), so this is what counts operations from Java.
 */
public final class AutogradOps {
    private AutogradOps() {}

    /** Node name -> number of nodes reachable from {@code root}'s gradient function (empty if it has none). */
    public static Map<String, Integer> count(Tensor root) {
        Map<String, Integer> counts = new TreeMap<>();
        Node start = root.grad_fn();
        if (start == null || start.isNull()) return counts;
        Set<Long> seen = new HashSet<>();
        Deque<Node> todo = new ArrayDeque<>();
        todo.push(start);
        seen.add(start.address());
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            counts.merge(n.name().getString(), 1, Integer::sum);
            EdgeVector edges = n.next_edges();
            for (long i = 0; i < edges.size(); i++) {
                Edge e = edges.get(i);
                if (!e.is_valid()) continue;
                Node next = e.function();
                if (next == null || next.isNull() || !seen.add(next.address())) continue;
                todo.push(next);
            }
        }
        return counts;
    }

    public static int total(Map<String, Integer> counts) {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
}
