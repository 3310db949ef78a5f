package woodflow.distributed;

import java.util.Map;

/**
 * Where this process sits in a data-parallel group, from the variables torchrun, SLURM-style launchers and
 * Kubernetes' PyTorchJob set: {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}; command-line options override them. {@code WOODFLOW_DIST_TIMEOUT} (seconds) bounds every wait
 * on another rank.
 *
 * @param deviceHost the address Gloo binds this rank's connections to: 127.0.0.1 when the master is local, else
 *                   this machine's host name (as {@code createDeviceForHostname} resolves it)
 */
public record DistConfig(String masterAddr, int masterPort, int rank, int worldSize, int localRank,
                         long timeoutMillis, String deviceHost) {
    public static final int DEFAULT_PORT = 29500;
    public static final long DEFAULT_TIMEOUT_SECONDS = 120;

    public DistConfig {
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be at least 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("RANK must be in 0.." + (worldSize - 1) + " for WORLD_SIZE "
                    + worldSize + ", got " + rank);
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new IllegalArgumentException("MASTER_PORT must be 1..65535, got " + masterPort);
        }
        if (timeoutMillis < 1000) throw new IllegalArgumentException("the group timeout must be at least 1 s");
    }

    /**
     * The group the environment and options describe, or null for a one-process run (WORLD_SIZE unset or 1 and no
     * option given). A null option means "take the environment's".
     */
    public static DistConfig resolve(Map<String, String> env, Integer rank, Integer worldSize, String masterAddr,
                                     Integer masterPort) {
        Integer n = worldSize != null ? worldSize : intVar(env, "WORLD_SIZE");
        if (n == null || n <= 1) return null;
        Integer r = rank != null ? rank : intVar(env, "RANK");
        if (r == null) {
            throw new IllegalArgumentException("WORLD_SIZE is " + n + " but this process's RANK is not set: set RANK "
                    + "(or --rank) to 0.." + (n - 1));
        }
        String addr = masterAddr != null ? masterAddr : env.getOrDefault("MASTER_ADDR", "127.0.0.1");
        Integer port = masterPort != null ? masterPort : intVar(env, "MASTER_PORT");
        Integer local = intVar(env, "LOCAL_RANK");
        Integer timeout = intVar(env, "WOODFLOW_DIST_TIMEOUT");
        String host = isLoopback(addr) ? "127.0.0.1" : hostName();
        return new DistConfig(addr, port != null ? port : DEFAULT_PORT, r, n, local != null ? local : r,
                (timeout != null ? timeout : DEFAULT_TIMEOUT_SECONDS) * 1000L, host);
    }

    private static boolean isLoopback(String addr) {
        return addr.equals("localhost") || addr.startsWith("127.");
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
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }
}
