package woodflow.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import woodflow.serve.Dashboard;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code woodflow serve}: the live web dashboard over a folder of runs. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a live web dashboard of the run folders under ROOT: runs table, learning curves that "
                + "update while runs train, sampling at any temperature, run comparison and image scoring. Read-only: "
                + "it never writes into a run folder or blocks a trainer.",
                "Example: woodflow serve runs/   (then open http://127.0.0.1:8080/)"})
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    Common common;

    @Parameters(index = "0", arity = "0..1", defaultValue = "runs", description = "Folder of run folders (default "
            + "runs/).")
    Path root;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default 8080; 0 picks a free one).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default 127.0.0.1, this "
            + "machine only). The dashboard has no authentication.")
    String host;

    @Option(names = "--model-cache-mb", defaultValue = "512", description = "Memory for the parameters of the models "
            + "kept loaded for sampling (default 512 MB).")
    long modelCacheMb;

    /** The command that shows a run folder in the dashboard, as {@code demo} prints it. */
    static String howToOpen(Path runDir) {
        Path abs = runDir.toAbsolutePath().normalize();
        Path parent = runDir.normalize().getParent();
        String root = parent == null ? "." : parent.toString();
        String id = java.net.URLEncoder.encode(abs.getFileName().toString(), java.nio.charset.StandardCharsets.UTF_8);
        return "./woodflow serve " + root + "   then open http://127.0.0.1:8080/run?id=" + id;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0..65535, got " + port);
        if (modelCacheMb < 1) throw new IllegalArgumentException("--model-cache-mb must be at least 1");
        if (!java.nio.file.Files.isDirectory(root)) {
            throw new IllegalArgumentException("ROOT " + root + " is not a folder: give the folder that holds the run "
                    + "folders (default runs/), e.g. woodflow serve runs/");
        }
        common.setUp();
        InetAddress address = InetAddress.getByName(host);
        if (!address.isLoopbackAddress()) {
            System.err.println("warning: binding to " + host + ": the dashboard has no authentication; anyone who can "
                    + "reach this address can see every run under " + root + " and use this machine's CPU to sample");
        }
        Dashboard d;
        try {
            d = new Dashboard(root, host, port, modelCacheMb << 20).start();
        } catch (java.net.BindException e) {
            throw new IllegalArgumentException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "): choose another --port (0 picks a free one) or --host");
        }
        String shown = address.isAnyLocalAddress() ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
        System.out.println("woodflow serve: " + d.root() + " at http://" + shown + ":" + d.port() + "/  (Ctrl-C stops)");
        Runtime.getRuntime().addShutdownHook(new Thread(d::close));
        Thread.currentThread().join();
        return 0;
    }
}
