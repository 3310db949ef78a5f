package woodflow.train;

import java.nio.file.Path;

/** A child process for RobustnessTest: takes a run folder's lock, says "locked", and holds it until killed. */
public final class HoldRunLock {
    private HoldRunLock() {}

    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
