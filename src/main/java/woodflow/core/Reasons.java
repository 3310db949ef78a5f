package woodflow.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one line a user reads for a failure, whatever threw it: our own errors say the problem and the fix already; a
 * file-system failure names the file and the operating system's reason; libtorch's errors keep their first line,
 * without the C++ trace; anything else is an internal error and is said to be one. No Java type name is printed
 * (a user cannot act on "NullPointerException"); {@code -Dwoodflow.debug=true} prints the stack trace for a report.
 */
public final class Reasons {
    private Reasons() {}

    /** Failures whose message is written for the user (the problem and a fix). */
    private static boolean ours(Throwable t) {
        return t instanceof IllegalArgumentException || t instanceof IllegalStateException || t instanceof IOException
                || t instanceof NumericalException || t instanceof UnsupportedOperationException
                || t.getClass().getName().startsWith("woodflow.");
    }

    public static String of(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && (t instanceof CompletionException || t instanceof ExecutionException
                || t instanceof UncheckedIOException || t instanceof java.lang.reflect.UndeclaredThrowableException
                || t instanceof java.lang.reflect.InvocationTargetException)) {
            t = t.getCause();
        }
        String m = t.getMessage();
        if (t instanceof FileSystemException f && f.getReason() == null) {
            return f.getFile() + ": " + fileProblem(f);
        }
        if (t instanceof FileSystemException f && f.getFile() != null && m != null && !m.contains(f.getFile())) {
            m = f.getFile() + ": " + f.getReason();
        }
        if (ours(t) && m != null && !m.isBlank()) return m.strip();
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + (m == null ? "the Java heap" : firstLine(m)) + "): give the JVM more with "
                    + "WOODFLOW_JAVA_OPTS=-Xmx8g, or use a smaller batch";
        }
        if (t.getClass() == RuntimeException.class && m != null && !m.isBlank()) {
            java.util.regex.Matcher alloc = ALLOCATION.matcher(m);
            if (alloc.find()) {
                return "out of memory: libtorch could not allocate " + bytes(Long.parseLong(alloc.group(1)))
                        + "; make the model or the batch smaller (model.hidden, model.steps, model.levels, "
                        + "train.batch)";
            }
            return "libtorch: " + firstLine(m); // JavaCPP's wrapper of a C++ exception (c10::Error)
        }
        return "an internal error stopped the command" + (t instanceof StackOverflowError ? " (too deep a recursion)"
                : "") + "; this is a bug: please report it with the command line (run it again with "
                + "WOODFLOW_JAVA_OPTS=-Dwoodflow.debug=true for the details)";
    }

    /** libtorch's CPU allocator refusing a request (c10's DefaultCPUAllocator): the bytes asked for. */
    private static final java.util.regex.Pattern ALLOCATION =
            java.util.regex.Pattern.compile("can't allocate memory: you tried to allocate (\\d{1,18}) bytes");

    /** A size in decimal units, as a person reads it: "432 GB", "1.5 GB", "300 MB". */
    static String bytes(long n) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB", "PB"};
        double v = n;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? n + " bytes" : String.format(java.util.Locale.ROOT, v < 10 ? "%.1f %s" : "%.0f %s", v,
                units[u]);
    }

    /** The first line of a message, without libtorch's "[file.cc:123] " prefix and C++ trace. */
    public static String firstLine(String m) {
        if (m == null) return "no reason given";
        int cut = m.indexOf("\nException raised from");
        String s = cut >= 0 ? m.substring(0, cut) : m;
        String first = s.strip().lines().filter(l -> !l.isBlank()).findFirst().orElse("no reason given");
        return first.replaceFirst("^\\[[^\\]]*\\]\\s*", "").strip();
    }

    private static String fileProblem(FileSystemException f) {
        if (f instanceof NoSuchFileException) return "no such file or folder";
        if (f instanceof FileAlreadyExistsException) return "a file of that name exists";
        if (f instanceof AccessDeniedException) return "permission denied";
        if (f instanceof NotDirectoryException) return "not a folder";
        if (f instanceof DirectoryNotEmptyException) return "the folder is not empty";
        return "cannot be accessed";
    }
}
