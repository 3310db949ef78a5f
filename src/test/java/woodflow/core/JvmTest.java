package woodflow.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Child JVMs (ranks, study cells) run with the collector and heap settings the launcher gave their parent. */
class JvmTest {
    /** Prints the collector of the JVM it runs in. */
    public static void main(String[] args) {
        System.out.println(MachineInfo.collector());
    }

    @Test
    void theLaunchersCollectorAndHeapSettingsAreKeptForChildren() {
        List<String> parent = List.of("-XX:+UseSerialGC", "-Xms8m", "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=30", "-XX:+UnlockDiagnosticVMOptions", "-Xss8m", "-Dfoo=bar");
        assertThat(Jvm.keptOptions(parent)).contains("-XX:+UseSerialGC", "-Xms8m", "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=30", "-Xss8m").doesNotContain("-XX:+UnlockDiagnosticVMOptions", "-Dfoo=bar");
        // a user's choice of another collector (WOODFLOW_JAVA_OPTS, after the launcher's) reaches the children too
        List<String> g1 = List.of("-XX:+UseSerialGC", "-XX:-UseSerialGC", "-XX:+UseG1GC");
        // (in order, so the last one wins as in the parent; -Dwoodflow.threads may follow, set by another test)
        assertThat(Jvm.keptOptions(g1)).containsSubsequence(g1).doesNotHaveDuplicates();
    }

    @Test
    void aChildNamesItsCollector() throws Exception {
        ProcessBuilder pb = Jvm.child(JvmTest.class).options("-XX:+UseSerialGC", "-Xms8m").processBuilder();
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(out).isEqualTo("serial, heap 8 MB at start");
    }

    /** The launcher's JVM options come before WOODFLOW_JAVA_OPTS, so a user can choose another collector. */
    @Test
    void theLauncherChoosesTheSerialCollectorAndLetsTheUserOverrideIt() throws Exception {
        assertThat(Files.readString(Path.of("woodflow"))).contains("-XX:+UseSerialGC -Xms8m")
                .contains("-Dorg.bytedeco.javacpp.maxPhysicalBytes=0");
        Process p = new ProcessBuilder("bash", "-c",
                "WOODFLOW_JAVA_OPTS='-XX:-UseSerialGC -XX:+UseG1GC' ./woodflow --version").redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
    }
}
