package woodflow.core;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starting a child JVM like this one: the one place that knows which of this JVM's options a child needs. Every
 * child process of woodflow (study cells, data-parallel ranks, soak trainers, memory and bench children) is built
 * here and run by a {@link ProcessGroup}:
 * <pre>
 *   ProcessBuilder pb = Jvm.child(CellRunner.class).options("-XX:+UseSerialGC").args(runDir, budget).processBuilder();
 *   try (ProcessGroup g = new ProcessGroup()) { g.start(pb, ProcessGroup.Output.appendTo(log)).waitFor(); }
 * </pre>
 */
public final class Jvm {
    /**
     * Options of this JVM that a child needs to behave the same: stack and heap sizes, the collector the launcher
     * chose, module access, settings.
     */
    private static final List<String> KEPT_PREFIXES = List.of("-Xss", "-Xmx", "-Xms", "--add-opens", "--add-exports",
            "-Djava.awt.headless", "-Dorg.bytedeco.", "-Dwoodflow.", "-XX:+UseSerialGC", "-XX:-UseSerialGC",
            "-XX:+UseG1GC", "-XX:+UseParallelGC", "-XX:MinHeapFreeRatio=", "-XX:MaxHeapFreeRatio=");

    private Jvm() {}

    /**
     * The command that runs {@code mainClass} in a new JVM like this one (its java, class path and the options in
     * {@link #KEPT_PREFIXES}); the caller appends the arguments.
     */
    public static List<String> javaCommand(String mainClass) {
        return child(mainClass).command();
    }

    /** A child JVM running {@code mainClass}, to be given options and arguments. */
    public static Child child(Class<?> mainClass) {
        return child(mainClass.getName());
    }

    /** A child JVM running {@code mainClass}, to be given options and arguments. */
    public static Child child(String mainClass) {
        return new Child(mainClass);
    }

    /**
     * One child JVM's command line and environment: this JVM's java, the options of this JVM a child needs (or all of
     * them), the extra options, the class path, the main class and its arguments. An extra option given again wins
     * over the inherited one (the JVM takes the last {@code -Xmx} or {@code -Dname=}).
     */
    public static final class Child {
        private final String mainClass;
        private final List<String> options = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private boolean everyOption;

        private Child(String mainClass) {
            this.mainClass = mainClass;
        }

        /** JVM options after the inherited ones, e.g. {@code -Xmx1g} or {@code -XX:+UseSerialGC}. */
        public Child options(String... jvmOptions) {
            options.addAll(Arrays.asList(jvmOptions));
            return this;
        }

        /** Arguments of the main class, appended in order. */
        public Child args(String... mainArgs) {
            return args(Arrays.asList(mainArgs));
        }

        /** Arguments of the main class, appended in order. */
        public Child args(List<String> mainArgs) {
            args.addAll(mainArgs);
            return this;
        }

        /** An environment variable of the child (the rest of this process's environment is inherited). */
        public Child environment(String name, String value) {
            environment.put(name, value);
            return this;
        }

        /**
         * Every option this JVM was started with instead of the kept ones: for re-running this very command in a
         * fresh process that must match this one (a benchmark), not for workers.
         */
        public Child everyOption() {
            everyOption = true;
            return this;
        }

        public List<String> command() {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> inherited = ManagementFactory.getRuntimeMXBean().getInputArguments();
            if (everyOption) {
                cmd.addAll(inherited);
            } else {
                cmd.addAll(keptOptions(inherited));
            }
            cmd.addAll(options);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(mainClass);
            cmd.addAll(args);
            return cmd;
        }

        /** The command with the environment set; output and error go wherever the caller redirects them. */
        public ProcessBuilder processBuilder() {
            ProcessBuilder pb = new ProcessBuilder(command());
            pb.environment().putAll(environment);
            return pb;
        }
    }

    static List<String> keptOptions(List<String> inherited) {
        List<String> kept = new ArrayList<>();
        for (int i = 0; i < inherited.size(); i++) {
            String a = inherited.get(i);
            if ((a.equals("--add-opens") || a.equals("--add-exports")) && i + 1 < inherited.size()) {
                kept.add(a);
                kept.add(inherited.get(++i));
            } else if (KEPT_PREFIXES.stream().anyMatch(a::startsWith) && !a.startsWith("-Dwoodflow.threads=")) {
                kept.add(a);
            }
        }
        // set at run time by --threads (after this JVM started), so not among the input arguments
        String threads = System.getProperty("woodflow.threads");
        if (threads != null) kept.add("-Dwoodflow.threads=" + threads);
        if (Boolean.getBoolean("woodflow.debug")) kept.add("-Dwoodflow.debug=true");
        return kept;
    }
}
