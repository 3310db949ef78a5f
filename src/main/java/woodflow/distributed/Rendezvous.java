package woodflow.distributed;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.IntOptional;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * How the ranks of a group meet, bounded in time and in where they listen:
 * <ul>
 *   <li>Rank 0 serves libtorch's {@link TCPStore} on the interface of MASTER_ADDR only ({@link DistConfig#bind()}):
 *       libtorch's own listener binds every interface ({@code [::]} and {@code 0.0.0.0}) and its options have no
 *       address to bind, but they take a socket that is already listening ({@code masterListenFd}, what torchrun's
 *       agent uses), so this class opens that socket on the one address and hands it over. {@code
 *       WOODFLOW_DIST_BIND=0.0.0.0} asks for libtorch's own listener on every interface.</li>
 *   <li>A rank other than 0 first waits for rank 0's port to accept connections, itself, until the join timeout:
 *       libtorch's client retries on its own for the whole store timeout, printing a C++ trace each time.</li>
 *   <li>Every rank then marks itself in the store and waits, at most the join timeout, for the others: the ranks that
 *       did not come are named.</li>
 * </ul>
 */
final class Rendezvous {
    private Rendezvous() {}

    /** Listening sockets handed to libtorch: it owns (and closes) their descriptors; these are never closed here. */
    private static final List<ServerSocketChannel> HANDED_OVER = new CopyOnWriteArrayList<>();

    /** Whether {@code bind} asks for every interface. */
    static boolean everyInterface(String bind) {
        return bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("*");
    }

    /** Rank 0's store, listening on {@code c.bind()} only (see the class comment). */
    static TCPStore serve(DistConfig c) {
        TCPStoreOptions o = options(c, true);
        String where = c.bind() + ":" + c.masterPort();
        if (!everyInterface(c.bind())) {
            int fd = listen(c, where);
            if (fd >= 0) {
                o.masterListenFd(new IntOptional(fd));
            } else {
                System.err.println("warning: this system does not show which descriptor the rendezvous socket has "
                        + "(no /proc): the store listens on every interface, as libtorch does by itself");
            }
        }
        try {
            return new TCPStore(c.masterAddr(), o);
        } catch (RuntimeException e) {
            throw new DistException(DistContext.storeProblem(c, e));
        }
    }

    /** Opens the listening socket on {@code c.bind()}; returns its descriptor, or -1 where it cannot be found. */
    private static int listen(DistConfig c, String where) {
        InetAddress address;
        try {
            address = InetAddress.getByName(c.bind());
        } catch (UnknownHostException e) {
            throw new DistException("rank 0: the address " + c.bind() + " (MASTER_ADDR, or WOODFLOW_DIST_BIND) does "
                    + "not resolve on this machine: give rank 0's address as the other ranks reach it");
        }
        ServerSocketChannel ch;
        try {
            ch = ServerSocketChannel.open(address instanceof Inet4Address ? StandardProtocolFamily.INET
                    : StandardProtocolFamily.INET6);
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        } catch (IOException e) {
            throw new DistException("rank 0: cannot open the rendezvous socket (" + e.getMessage() + ")");
        }
        try {
            ch.bind(new InetSocketAddress(address, c.masterPort()), 128);
        } catch (IOException e) {
            closeQuietly(ch);
            String m = String.valueOf(e.getMessage());
            if (e instanceof BindException && m.contains("in use")) {
                throw new DistException("rank 0 cannot serve the rendezvous store on " + where + ": the port is "
                        + "already in use; choose another MASTER_PORT");
            }
            if (m.contains("assign")) {
                throw new DistException("rank 0 cannot listen on " + c.bind() + ": it is not an address of this "
                        + "machine; set MASTER_ADDR to rank 0's own address as the other ranks reach it, or "
                        + "WOODFLOW_DIST_BIND to one of this machine's addresses (0.0.0.0: all of them)");
            }
            throw new DistException("rank 0 cannot listen on " + where + ": " + m);
        }
        int fd = descriptor(c.masterPort());
        if (fd < 0) {
            closeQuietly(ch);
            return -1;
        }
        HANDED_OVER.add(ch);
        return fd;
    }

    /** A rank's connection to rank 0's store, once rank 0 listens (waiting at most the join timeout for it). */
    static TCPStore connect(DistConfig c, long deadline) {
        String where = c.masterAddr() + ":" + c.masterPort();
        while (true) {
            long left = deadline - System.nanoTime();
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(c.masterAddr(), c.masterPort()),
                        (int) Math.max(100, Math.min(1000, left / 1_000_000)));
                break;
            } catch (UnknownHostException e) {
                throw new DistException("rank " + c.rank() + ": MASTER_ADDR " + c.masterAddr() + " does not resolve "
                        + "on this machine: give rank 0's address as this machine reaches it");
            } catch (IOException e) {
                if (System.nanoTime() >= deadline) {
                    throw new DistException("rank " + c.rank() + ": rank 0 (the master) did not appear at " + where
                            + " within " + seconds(c.joinTimeoutMillis()) + " (WOODFLOW_DIST_JOIN_TIMEOUT): start rank 0 "
                            + "with the same MASTER_ADDR and MASTER_PORT, or check that this machine can reach that "
                            + "address");
                }
                sleep(200);
            }
        }
        TCPStoreOptions o = options(c, false);
        o.timeout(new Milliseconds(Math.max(1000, (deadline - System.nanoTime()) / 1_000_000)));
        TCPStore store;
        try {
            store = new TCPStore(c.masterAddr(), o);
        } catch (RuntimeException e) {
            throw new DistException(DistContext.storeProblem(c, e));
        }
        store.setTimeout(new Milliseconds(c.timeoutMillis())); // the joining is over: every later wait's bound
        return store;
    }

    /**
     * Marks this rank as joined and waits until every rank has, at most until {@code deadline}; then names the ranks
     * that did not come.
     */
    static void await(Store store, DistConfig c, long deadline) {
        try {
            store.set("join/" + c.rank(), "1");
            while (true) {
                List<Integer> missing = new ArrayList<>();
                for (int r = 0; r < c.worldSize(); r++) {
                    if (!store.check(new StringVector("join/" + r))) missing.add(r);
                }
                if (missing.isEmpty()) return;
                if (System.nanoTime() >= deadline) {
                    throw new DistException("rank " + c.rank() + ": " + (missing.size() == 1 ? "rank " : "ranks ")
                            + String.join(", ", missing.stream().map(String::valueOf).toList()) + " of the group of "
                            + c.worldSize() + " did not join within " + seconds(c.joinTimeoutMillis())
                            + " (WOODFLOW_DIST_JOIN_TIMEOUT): start every rank with WORLD_SIZE=" + c.worldSize()
                            + " and the same MASTER_ADDR and MASTER_PORT (" + c.masterAddr() + ":" + c.masterPort()
                            + ")");
                }
                sleep(100);
            }
        } catch (DistException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DistException("rank " + c.rank() + ": lost rank 0 (the master) while the group was joining: "
                    + DistContext.oneLine(e));
        }
    }

    private static TCPStoreOptions options(DistConfig c, boolean server) {
        TCPStoreOptions o = new TCPStoreOptions();
        o.port((short) c.masterPort());
        o.isServer(server);
        o.numWorkers(new SizeTPointer(1).put(c.worldSize()));
        o.waitWorkers(false); // the ranks are awaited by await, which names the missing ones
        o.timeout(new Milliseconds(c.timeoutMillis()));
        o.useLibUV(false); // the listener that takes a socket handed over
        return o;
    }

    /**
     * The descriptor, in this process, of the socket listening on {@code port}: the kernel's tables of listening TCP
     * sockets give its inode, and {@code /proc/self/fd} the descriptor that points at it. -1 when not found.
     */
    static int descriptor(int port) {
        Set<String> inodes = new HashSet<>();
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                List<String> lines = Files.readAllLines(Path.of(table));
                for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 10 || !f[3].equals("0A")) continue; // 0A: LISTEN
                    String local = f[1];
                    if (Integer.parseInt(local.substring(local.indexOf(':') + 1), 16) == port) inodes.add(f[9]);
                }
            } catch (IOException | RuntimeException e) {
                // no such table (not Linux, or no IPv6): the other may have it
            }
        }
        if (inodes.isEmpty()) return -1;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException | RuntimeException e) {
                    // a descriptor closed while listing
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s",
                millis / 1000.0);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistException("interrupted while the group was joining");
        }
    }

    private static void closeQuietly(ServerSocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was handed over
        }
    }
}
