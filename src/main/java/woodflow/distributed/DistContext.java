package woodflow.distributed;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ByteVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import woodflow.core.Tensors;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static woodflow.core.Tensors.s;

/**
 * One rank of a data-parallel group on libtorch's own c10d runtime: a {@link TCPStore} (served by rank 0) for
 * rendezvous and small agreements, and a Gloo process group for the collectives. This is what PyTorch's
 * DistributedDataParallel runs on; the group is described by the variables torchrun sets ({@link DistConfig}).
 *
 * <p>Every collective waits at most the group's timeout, so a lost rank ends the others with an error rather than a
 * hang; {@link DistException} names the rank when it can.
 */
public final class DistContext implements AutoCloseable {
    /** Gradient bucket size: as DistributedDataParallel's default, 25 MB of float32. */
    static final long BUCKET_ELEMENTS = 25L * 1024 * 1024 / 4;

    private final DistConfig config;
    private final TCPStore store;
    private final Backend group;
    private final CollectiveBackend backend;
    private final String device;
    private final Milliseconds timeout;
    /** How often each rank counts up its heartbeat in the store: what names a lost rank in a group of more than 2. */
    static final long HEARTBEAT_MILLIS = 1000;

    private double allreduceSeconds;
    private long agreements;
    private volatile boolean closed;
    private final Thread heartbeat;

    private DistContext(DistConfig config, TCPStore store, Backend group, CollectiveBackend backend, String device) {
        this.config = config;
        this.store = store;
        this.group = group;
        this.backend = backend;
        this.device = device;
        this.timeout = new Milliseconds(config.timeoutMillis());
        Store beats = store.clone(); // a connection of its own
        String key = "heartbeat/" + config.rank();
        heartbeat = new Thread(() -> {
            try {
                while (!closed) {
                    beats.add(key, 1);
                    Thread.sleep(HEARTBEAT_MILLIS);
                }
            } catch (InterruptedException | RuntimeException e) {
                // closed, or the store (rank 0) is gone: the collectives report it
            }
        }, "woodflow-dist-heartbeat");
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    /**
     * Joins the group ({@link Rendezvous}): rank 0 serves the store on MASTER_ADDR's interface and MASTER_PORT, the
     * others connect to it once it listens; every rank waits for all the others, at most the join timeout, which
     * names the ranks that did not come; then all build the Gloo group.
     */
    public static DistContext join(DistConfig c) {
        return join(c, "cpu");
    }

    /**
     * As {@link #join(DistConfig)}, for a model on {@code device}: the backend follows it ({@link CollectiveBackend}:
     * Gloo on the CPU, NCCL on CUDA), and every tensor the group makes itself is made there.
     */
    public static DistContext join(DistConfig c, String device) {
        CollectiveBackend backend = CollectiveBackend.forDevice(device);
        Tensors.load();
        long deadline = System.nanoTime() + c.joinTimeoutMillis() * 1_000_000L;
        TCPStore store = c.rank() == 0 ? Rendezvous.serve(c) : Rendezvous.connect(c, deadline);
        Backend group;
        try {
            Rendezvous.await(store, c, deadline);
            group = backend.create(store, c.rank(), c.worldSize(), c.timeoutMillis(), c.deviceHost());
        } catch (DistException e) {
            store.close(); // rank 0's store stops listening
            throw e;
        } catch (RuntimeException | LinkageError e) { // LinkageError: NCCL natives absent (the CPU build)
            store.close();
            throw new DistException("rank " + c.rank() + ": setting up the " + backend.label() + " group failed: "
                    + oneLine(e));
        }
        return new DistContext(c, store, group, backend, device);
    }

    public CollectiveBackend backend() {
        return backend;
    }

    static String storeProblem(DistConfig c, RuntimeException e) {
        String m = oneLine(e);
        String where = c.masterAddr() + ":" + c.masterPort();
        if (c.rank() == 0 && (m.contains("in use") || m.contains("EADDRINUSE") || m.contains("bind"))) {
            return "rank 0 cannot serve the rendezvous store on " + where + ": the port is already in use; choose "
                    + "another MASTER_PORT (" + m + ")";
        }
        if (c.rank() == 0 && (m.contains("Timed out") || m.contains("timed out") || m.contains("timeout"))) {
            return "rank 0: not all " + c.worldSize() + " ranks joined the store on " + where + " within "
                    + c.timeoutMillis() / 1000 + " s; start every rank with the same WORLD_SIZE, MASTER_ADDR and "
                    + "MASTER_PORT (" + m + ")";
        }
        if (c.rank() != 0) {
            return "rank " + c.rank() + " cannot reach the master (rank 0's store) at " + where + " within "
                    + c.timeoutMillis() / 1000 + " s: is rank 0 running, and are MASTER_ADDR and MASTER_PORT right? ("
                    + m + ")";
        }
        return "rank 0: the rendezvous store on " + where + " failed: " + m;
    }

    static String oneLine(Throwable e) {
        String first = woodflow.core.Reasons.firstLine(e.getMessage()); // without libtorch's "[file.cc:547] "
        return first.length() > 300 ? first.substring(0, 300) + "..." : first;
    }

    public int rank() {
        return config.rank();
    }

    public int worldSize() {
        return config.worldSize();
    }

    public DistConfig config() {
        return config;
    }

    /** Seconds spent in gradient all-reduces so far (waiting for slower ranks included). */
    public double allreduceSeconds() {
        return allreduceSeconds;
    }

    /**
     * Fails on every rank, naming the ranks that differ, unless every rank passes the same {@code value} for
     * {@code key} (a hash of the run config, say). Exchanged through the store.
     */
    public void agree(String key, String value, String what) {
        // a fresh key per agreement: the store keeps old keys, and every rank makes the same agreements in order
        String prefix = "agree/" + (agreements++) + "/" + key + "/";
        store.set(prefix + rank(), bytes(value));
        List<String> differing = new ArrayList<>();
        String mine = value;
        for (int r = 0; r < worldSize(); r++) {
            String k = prefix + r;
            try {
                store._wait(new StringVector(k), timeout);
            } catch (RuntimeException e) {
                throw lost(r, "waiting for its " + what, e);
            }
            String theirs = string(store.get(k));
            if (!theirs.equals(mine)) differing.add("rank " + r + " has " + theirs);
        }
        if (!differing.isEmpty()) {
            throw new DistException(String.format(Locale.ROOT, "rank %d: the ranks disagree on the %s (this rank has "
                    + "%s; %s): start every rank with the same options", rank(), what, mine,
                    String.join(", ", differing)));
        }
    }

    /**
     * Averages the gradients over the ranks in place, and with them this rank's {@code loss}: the tensors are
     * flattened into buckets of about 25 MB, each bucket is summed over the ranks and divided by N, and copied back.
     * The loss rides in the last bucket, so when any rank's loss or gradient is not finite every rank sees a
     * non-finite result and skips the step the same way. Undefined gradients (unused parameters, alike on every rank) count
     * as zeros and stay undefined.
     *
     * @return the mean loss over the ranks (NaN when any rank's was not finite)
     */
    public double averageGradients(List<Tensor> params, double loss) {
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            List<List<Tensor>> buckets = new ArrayList<>();
            List<Tensor> current = new ArrayList<>();
            long size = 0;
            for (Tensor p : params) {
                if (size > 0 && size + p.numel() > BUCKET_ELEMENTS) {
                    buckets.add(current);
                    current = new ArrayList<>();
                    size = 0;
                }
                current.add(p);
                size += p.numel();
            }
            buckets.add(current);
            double mean = Double.NaN;
            for (int b = 0; b < buckets.size(); b++) {
                boolean last = b == buckets.size() - 1;
                List<Tensor> parts = new ArrayList<>();
                for (Tensor p : buckets.get(b)) {
                    Tensor grad = p.grad();
                    parts.add(grad.defined() ? grad.reshape(-1).to(torch.ScalarType.Float)
                            : torch.zeros(new long[] {p.numel()}, Tensors.optionsLike(p)));
                }
                if (last) {
                    double l = Double.isFinite(loss) ? loss : Double.NaN;
                    parts.add(torch.full(new long[] {1}, s(l), Tensors.optionsLike(params.get(0))));
                }
                Tensor flat = Tensors.cat(parts, 0);
                allreduce(flat, "gradient all-reduce");
                flat.div_(s(worldSize()));
                long off = 0;
                for (Tensor p : buckets.get(b)) {
                    long n = p.numel();
                    Tensor avg = flat.narrow(0, off, n).view(Tensors.shape(p));
                    Tensor grad = p.grad();
                    if (grad.defined()) grad.copy_(avg); // undefined on every rank alike: the parameter is unused
                    off += n;
                }
                if (last) mean = flat.narrow(0, off, 1).item_double();
            }
            return mean;
        } finally {
            allreduceSeconds += (System.nanoTime() - t0) / 1e9;
        }
    }

    /** Sums a few numbers over the ranks (in float64). */
    public double[] sum(double... values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = onDevice(Tensors.fromDoubles(values, values.length));
            allreduce(t, "all-reduce");
            return Tensors.toDoubles(t);
        }
    }

    /** Overwrites every tensor with rank 0's (parameters and buffers after initialisation). */
    public void broadcastFromRoot(List<Tensor> tensors) {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Tensor t : tensors) {
                Tensor c = t.is_contiguous() ? t : t.contiguous();
                BroadcastOptions o = new BroadcastOptions();
                o.rootRank(0);
                o.timeout(timeout);
                waitFor(group.broadcast(new TensorVector(c), o), "broadcast");
                if (c != t) t.copy_(c);
            }
        }
    }

    /** Waits (at most the timeout) until every rank has arrived. */
    public void barrier() {
        try (PointerScope scope = new PointerScope()) {
            allreduce(onDevice(torch.zeros(1)), "barrier");
        }
    }

    /** {@code t} on the group's device (NCCL reduces CUDA tensors only). */
    Tensor onDevice(Tensor t) {
        return device.equals("cpu") ? t : t.to(new org.bytedeco.pytorch.Device(device), Tensors.dtype(t));
    }

    private void allreduce(Tensor t, String what) {
        waitFor(startAllreduce(t), what);
    }

    /** Starts summing {@code t} over the ranks in place, without waiting: the group's threads do the work. */
    Work startAllreduce(Tensor t) {
        AllreduceOptions o = new AllreduceOptions();
        o.timeout(timeout);
        return group.allreduce(new TensorVector(t), o);
    }

    /** Adds to the seconds {@link #allreduceSeconds} reports (time a step waited for gradient all-reduces). */
    void countAllreduceSeconds(double seconds) {
        allreduceSeconds += seconds;
    }

    void waitFor(Work w, String what) {
        try {
            if (!w._wait(timeout)) throw new DistException("rank " + rank() + ": " + what + " did not finish within "
                    + config.timeoutMillis() / 1000 + " s");
        } catch (DistException e) {
            throw e;
        } catch (RuntimeException e) {
            throw lost(-1, "in a " + what, e);
        }
    }

    /**
     * The error for a peer that stopped answering. With two ranks the lost one is the other; with more, the ranks
     * whose heartbeat in the store stopped (rank 0 when the store itself is gone).
     */
    private DistException lost(int who, String doing, RuntimeException e) {
        int other = who >= 0 ? who : (worldSize() == 2 ? 1 - rank() : -1);
        String peer = other >= 0 ? "rank " + other : silentRanks();
        return new DistException(String.format(Locale.ROOT, "rank %d: lost %s %s (it exited or stopped answering "
                + "within %d s); stopping: %s", rank(), peer, doing, config.timeoutMillis() / 1000, oneLine(e)));
    }

    /**
     * "rank K" (or "ranks K, L") whose heartbeats stopped, found by watching them for a few beats; ranks that noticed
     * the loss themselves (and may exit meanwhile) say so in the store first and are not counted.
     */
    private String silentRanks() {
        try {
            store.set("survivor/" + rank(), bytes("1"));
            long[] before = new long[worldSize()];
            for (int r = 0; r < worldSize(); r++) before[r] = store.add("heartbeat/" + r, 0);
            Thread.sleep(3 * HEARTBEAT_MILLIS);
            List<String> silent = new ArrayList<>();
            for (int r = 0; r < worldSize(); r++) {
                if (r != rank() && store.add("heartbeat/" + r, 0) == before[r]
                        && !store.check(new StringVector("survivor/" + r))) {
                    silent.add(Integer.toString(r));
                }
            }
            if (silent.isEmpty()) return "a rank";
            return (silent.size() == 1 ? "rank " : "ranks ") + String.join(", ", silent);
        } catch (RuntimeException e) {
            return rank() == 0 ? "a rank" : "rank 0 (the master)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "a rank";
        }
    }

    private static ByteVector bytes(String s) {
        return new ByteVector(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String string(ByteVector v) {
        return new String(v.get(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        closed = true;
        heartbeat.interrupt();
        try {
            heartbeat.join(2 * HEARTBEAT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.close();
        store.close();
    }
}
