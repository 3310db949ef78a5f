package woodflow.io;

/** Test helper: makes atomic writes of files whose name contains a string fail as on a full disk (and undoes it). */
public final class DiskFull {
    private DiskFull() {}

    public static void forWritesOf(String namePart) {
        AtomicFiles.failWritesContaining = namePart;
    }

    public static void clear() {
        AtomicFiles.failWritesContaining = null;
    }
}
