package woodflow.cli;

/** Stands in for the CLI in {@link LauncherTest}: echoes its arguments on both streams and exits with status 3. */
public final class LauncherProbe {
    private LauncherProbe() {}

    public static void main(String[] args) {
        System.out.println("probe stdout: " + String.join(" ", args));
        System.err.println("probe stderr: " + String.join(" ", args));
        System.exit(3);
    }
}
