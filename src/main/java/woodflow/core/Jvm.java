package woodflow.core;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starting a child JVM like this one: the one place that knows which of this JVM's options a child needs. */
public final class Jvm {
    /** Options of this JVM that a child needs to behave the same: stack and heap sizes, module access, settings. */
    private static final List<String> KEPT_PREFIXES = List.of("-Xss", "-Xmx", "-Xms", "--add-opens", "--add-exports",
            "-Djava.awt.headless", "-Dorg.bytedeco.", "-Dwoodflow.");

    private Jvm() {}

    /**
     * The command that runs {@code mainClass} in a new JVM like this one (its java, class path and the options in
     * {@link #KEPT_PREFIXES}); the caller appends the arguments. Used by studies' cells and data-parallel ranks.
     */
    public static List<String> javaCommand(String mainClass) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if ((a.equals("--add-opens") || a.equals("--add-exports")) && i + 1 < args.size()) {
                cmd.add(a);
                cmd.add(args.get(++i));
            } else if (KEPT_PREFIXES.stream().anyMatch(a::startsWith) && !a.startsWith("-Dwoodflow.threads=")) {
                cmd.add(a);
            }
        }
        // set at run time by --threads (after this JVM started), so not among the input arguments
        String threads = System.getProperty("woodflow.threads");
        if (threads != null) cmd.add("-Dwoodflow.threads=" + threads);
        if (Boolean.getBoolean("woodflow.debug")) cmd.add("-Dwoodflow.debug=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        return cmd;
    }
}
