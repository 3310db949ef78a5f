package woodflow.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code woodflow serve} on the command line (the pages themselves: woodflow.serve.DashboardBrowserTest). */
class ServeCommandTest {
    @Test
    void demoPrintsHowToOpenItsRun() {
        assertThat(ServeCommand.howToOpen(Path.of("runs", "demo-2")))
                .isEqualTo("./woodflow serve runs   then open http://127.0.0.1:8080/run?id=demo-2");
        assertThat(ServeCommand.howToOpen(Path.of("x"))).startsWith("./woodflow serve .   then open");
    }

    @Test
    void aMissingRootIsOneLineAndUsageErrorsAreUsageErrors() {
        CliTest.Outcome o = CliTest.cli("serve", "/no/such/runs", "--port", "0");
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).startsWith("woodflow: error: ROOT /no/such/runs is not a folder");
        assertThat(CliTest.cli("serve", "--port", "http").code()).isEqualTo(2);
        assertThat(CliTest.cli("serve", "--help").out()).contains("--host").contains("no authentication");
    }
}
