package woodflow.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code ./woodflow} launcher script passes the program's standard output, standard error and exit status
 * through. It runs here against a stand-in jar whose main class is {@link LauncherProbe}, so the test needs no build.
 */
class LauncherTest {
    @Test
    void passesStdoutStderrAndExitStatusThrough(@TempDir Path dir) throws Exception {
        Path launcher = dir.resolve("woodflow");
        Files.copy(Paths.get("woodflow"), launcher);
        assertThat(launcher.toFile().setExecutable(true)).isTrue();
        Files.createDirectories(dir.resolve("target"));
        // a jar that runs LauncherProbe from the test classes (no src/main next to it, so the launcher builds nothing)
        Path testClasses = Paths.get(LauncherProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherProbe.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, testClasses.toUri().toString());
        try (OutputStream out = Files.newOutputStream(dir.resolve("target/woodflow.jar"));
             JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush();
        }

        Process p = new ProcessBuilder("bash", launcher.toString(), "train", "--preset", "nope")
                .redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile())
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);
        String err = Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8);
        assertThat(out).contains("probe stdout: train --preset nope");
        assertThat(err).contains("probe stderr: train --preset nope");
        assertThat(p.exitValue()).isEqualTo(3);
    }
}
