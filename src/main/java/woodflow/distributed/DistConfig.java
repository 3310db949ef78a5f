package woodflow.distributed;

import java.util.Map;

/**
 * Where this process sits in a data-parallel group, from the variables torchrun, SLURM-style launchers and
 * Kubernetes' PyTorchJob set: {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}; command-line options override them. A group they cannot describe is refused: {@code RANK}
 * without {@code WORLD_SIZE}, {@code WORLD_SIZE} below 1, a {@code RANK} outside {@code 0..WORLD_SIZE-1}.
 * {@code WOODFLOW_DIST_JOIN_TIMEOUT} (seconds) bounds the wait for the other ranks to appear (default 30 s when the
 * master is this machine, 120 s when it is another); {@code WOODFLOW_DIST_TIMEOUT} (seconds, default 120) bounds every
 * later wait on another rank. {@code WOODFLOW_DIST_BIND} is the address rank 0's store listens on: MASTER_ADDR's own by
 * default, {@code 0.0.0.0} for every interface.
 *
 * @param deviceHost the address Gloo binds this rank's connections to: 127.0.0.1 when the master is local, else
 *                   this machine's host name (as {@code createDeviceForHostname} resolves it)
 * @param bind       the address rank 0's rendezvous store listens on ({@code 0.0.0.0} or {@code ::}: every one)
 */
public record DistConfig(String masterAddr, int masterPort, int rank, int worldSize, int localRank,
                         long timeoutMillis, long joinTimeoutMillis, String deviceHost, String bind) {
    public static final int DEFAULT_PORT = 29500;
    public static final long DEFAULT_TIMEOUT_SECONDS = 120;
    /** The join timeout when the master is on this machine (MASTER_ADDR a loopback address) and otherwise. */
    public static final long LOCAL_JOIN_SECONDS = 30, REMOTE_JOIN_SECONDS = 120;

    public DistConfig {
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be at least 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("RANK " + rank + " is not a rank of a group of WORLD_SIZE " + worldSize
                    + ": ranks are 0.." + (worldSize - 1));
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new IllegalArgumentException("MASTER_PORT must be 1..65535, got " + masterPort);
        }
        if (timeoutMillis < 1000) throw new IllegalArgumentException("the group timeout must be at least 1 s");
        if (joinTimeoutMillis < 1000) throw new IllegalArgumentException("the join timeout must be at least 1 s");
    }

    /** A group whose join takes as long as any other wait, and whose store listens on MASTER_ADDR (for tests). */
    public DistConfig(String masterAddr, int masterPort, int rank, int worldSize, int localRank, long timeoutMillis,
                      String deviceHost) {
        this(masterAddr, masterPort, rank, worldSize, localRank, timeoutMillis, timeoutMillis, deviceHost, masterAddr);
    }

    /**
     * The group the environment and options describe, or null for a one-process run (WORLD_SIZE unset or 1 and no
     * option given). A null option means "take the environment's".
     */
    public static DistConfig resolve(Map<String, String> env, Integer rank, Integer worldSize, String masterAddr,
                                     Integer masterPort) {
        Integer n = worldSize != null ? worldSize : intVar(env, "WORLD_SIZE");
        Integer r = rank != null ? rank : intVar(env, "RANK");
        if (n == null) {
            if (r == null) return null;
            throw new IllegalArgumentException("RANK is " + r + " but WORLD_SIZE is not set: set WORLD_SIZE to the "
                    + "number of ranks in the group (1 trains alone), or unset RANK");
        }
        if (n < 1) {
            throw new IllegalArgumentException("WORLD_SIZE must be at least 1 (the number of ranks; 1 trains alone), "
                    + "got " + n);
        }
        if (r != null && (r < 0 || r >= n)) {
            throw new IllegalArgumentException("RANK " + r + " is not a rank of a group of WORLD_SIZE " + n
                    + ": ranks are 0.." + (n - 1));
        }
        if (n == 1) return null;
        if (r == null) {
            throw new IllegalArgumentException("WORLD_SIZE is " + n + " but this process's RANK is not set: set RANK "
                    + "to 0.." + (n - 1));
        }
        String addr = masterAddr != null ? masterAddr : env.getOrDefault("MASTER_ADDR", "127.0.0.1").strip();
        if (addr.isEmpty()) throw new IllegalArgumentException("MASTER_ADDR is empty: give rank 0's address");
        Integer port = masterPort != null ? masterPort : intVar(env, "MASTER_PORT");
        Integer local = intVar(env, "LOCAL_RANK");
        long timeout = seconds(env, "WOODFLOW_DIST_TIMEOUT", DEFAULT_TIMEOUT_SECONDS);
        boolean here = isLoopback(addr);
        long join = seconds(env, "WOODFLOW_DIST_JOIN_TIMEOUT", here ? LOCAL_JOIN_SECONDS : REMOTE_JOIN_SECONDS);
        String bind = env.getOrDefault("WOODFLOW_DIST_BIND", "").strip();
        return new DistConfig(addr, port != null ? port : DEFAULT_PORT, r, n, local != null ? local : r,
                timeout * 1000L, join * 1000L, here ? "127.0.0.1" : hostName(), bind.isEmpty() ? addr : bind);
    }

    private static long seconds(Map<String, String> env, String name, long fallback) {
        Integer v = intVar(env, name);
        if (v == null) return fallback;
        if (v < 1) throw new IllegalArgumentException(name + " must be at least 1 (seconds), got " + v);
        return v;
    }

    private static boolean isLoopback(String addr) {
        return addr.equals("localhost") || addr.startsWith("127.") || addr.equals("::1");
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    private static Integer intVar(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return null;
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + v + "'");
        }
    }
}
