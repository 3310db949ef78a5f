package woodflow.core;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The malloc a process runs on is named in every doctor and bench report. */
class AllocatorTest {
    static final Path TCMALLOC = Path.of("/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4");

    /** Prints what the process it runs in reports. */
    public static void main(String[] args) {
        System.out.println(MachineInfo.allocator());
    }

    static String childReports(String preload) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), AllocatorTest.class.getName());
        pb.environment().remove("LD_PRELOAD");
        if (preload != null) pb.environment().put("LD_PRELOAD", preload);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    @Test
    void glibcWithoutAPreloadAndTcmallocWithIt() throws Exception {
        assertThat(childReports(null)).isEqualTo("glibc");
        Assumptions.assumeTrue(Files.isReadable(TCMALLOC), "libtcmalloc-minimal4 is not installed");
        assertThat(childReports(TCMALLOC.toString())).isEqualTo("tcmalloc");
    }

    /** The launcher preloads tcmalloc where it is installed, and only what it is told to. */
    @Test
    void theLauncherPreloadsTcmallocUnlessToldOtherwise() throws Exception {
        String script = Files.readString(Path.of("woodflow"));
        assertThat(script).contains("libtcmalloc_minimal.so.4").contains("WOODFLOW_MALLOC")
                .contains("TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD");
        List<String> ld = List.of("bash", "-c", "WOODFLOW_MALLOC=jemalloc ./woodflow --version");
        Process p = new ProcessBuilder(ld).redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(out).contains("WOODFLOW_MALLOC=jemalloc is not an allocator: use tcmalloc (the default) or glibc");
    }
}
