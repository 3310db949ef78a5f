package woodflow.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Walks every message that can end as {@code woodflow: error: ...} (or {@code woodflow_torch: error: ...}) in the
 * sources: the text given to every exception constructed in {@code src/main/java}, the methods that compose error text
 * (named for a problem, reason, hint, ...), the lines printed after "woodflow: error:", and every {@code raise} of the
 * Python module. It fails on a message that names a Java type (ours, the JDK's, a qualified class name, a
 * {@code getSimpleName()} spliced in) or a parser token ({@code JsonToken}, {@code START_ARRAY}, Jackson's and
 * SnakeYAML's own phrases): a user reads the problem and the fix, never the implementation (issue 31).
 */
class ErrorMessagesTest {
    static final Path MAIN = Path.of("src/main/java");
    static final Path PYTHON = Path.of("python/woodflow_torch");

    /** Parser tokens and phrases: never in any message. */
    static final Pattern PARSER = Pattern.compile("JsonToken|JsonParser|START_ARRAY|END_ARRAY|START_OBJECT|END_OBJECT"
            + "|VALUE_(STRING|NUMBER_INT|NUMBER_FLOAT|TRUE|FALSE|NULL)|FIELD_NAME|No content to map|Cannot deserialize"
            + "|Cannot construct instance|Cannot coerce|Unrecognized field|out of range of int|<stream end>"
            + "|<block end>|MarkedYAMLException|JsonMappingException|Traceback");

    /** Java types by name: the JDK's that a message might borrow, exception names, qualified names. */
    static final Pattern JAVA = Pattern.compile("\\b\\w*(Exception|Error)\\b|\\bjava\\.|\\bjavax\\."
            + "|\\b(?:woodflow|org|com)(?:\\.[a-z0-9_]+)+\\.[A-Z]\\w*|\\b(Integer|Long|Double|Float|Boolean|Object"
            + "|Optional|HashMap|ArrayList|IValue|GenericDict|TensorVector|ByteBuffer|BytePointer|Pointer)\\b");

    /** Code spliced into a message that would print a Java type's name. */
    static final Pattern TYPE_NAME_CODE = Pattern.compile("getSimpleName\\(\\)|getClass\\(\\)\\.getName\\(\\)"
            + "|getTargetType\\(\\)|__class__|type\\([^)]*\\)\\.__name__");

    /** Our own classes' names (a message saying "RunConfig" names a Java type). */
    static Set<String> ourClasses() throws IOException {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            files.filter(p -> p.toString().endsWith(".java"))
                    .forEach(p -> names.add(p.getFileName().toString().replace(".java", "")));
        }
        // the names of layers and formats that are also the user's words (the paper's and PyTorch's terms)
        names.removeAll(Set.of("ActNorm", "Squeeze", "Split", "Reverse", "Checkpoint", "Main", "Progress", "Adam",
                "Conv", "Html", "Jvm", "Json", "Csv", "Choice", "Choices", "Precision", "Backprop", "Budget",
                "Variant", "Methods", "Presets", "Study", "Soak", "Machine", "Memory", "Flops", "Layers", "Runs"));
        return names;
    }

    /** A message region: where it is, its string literals, and its code (for spliced type names). */
    record Region(String where, List<String> literals, String code) {}

    @Test
    void noErrorMessageNamesAJavaTypeOrAParserToken() throws Exception {
        Set<String> classes = ourClasses();
        Pattern ours = Pattern.compile("\\b(" + String.join("|", classes) + ")\\b");
        List<Region> regions = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                regions.addAll(javaRegions(f, stripComments(Files.readString(f))));
            }
        }
        try (Stream<Path> files = Files.walk(PYTHON)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".py")).sorted().toList()) {
                regions.addAll(pythonRegions(f, Files.readString(f)));
            }
        }
        assertThat(regions.size()).as("messages found").isGreaterThan(400);
        List<String> bad = new ArrayList<>();
        for (Region r : regions) {
            for (String lit : r.literals()) {
                for (Pattern p : List.of(PARSER, JAVA, ours)) {
                    Matcher m = p.matcher(lit);
                    if (m.find()) bad.add(r.where() + ": \"" + lit + "\" names '" + m.group() + "'");
                }
            }
            Matcher code = TYPE_NAME_CODE.matcher(r.where().endsWith(" raise") ? String.join(" ", r.literals())
                    + r.code() : r.code());
            if (code.find()) bad.add(r.where() + ": splices in a type name with " + code.group());
        }
        assertThat(bad).as("messages that name a Java type or a parser token").isEmpty();
    }

    @Test
    void theWalkFindsWhatItLooksFor() {
        // the scanner itself: a message with a type name, one with a token, one that splices a class name
        String src = stripComments("""
                class X {
                    void f(Exception e) {
                        // new IllegalStateException("in a comment: RunConfig")
                        throw new IllegalArgumentException("bad (" + e.getClass().getSimpleName() + "): " + "x");
                    }
                    static String storeProblem(int c) {
                        return "got JsonToken.START_ARRAY" + c;
                    }
                    void g() {
                        throw new DataException("fine: " + "a (b) c", null);
                    }
                }
                """);
        List<Region> rs = javaRegions(Path.of("X.java"), src);
        assertThat(rs).hasSize(3);
        assertThat(rs.get(0).literals()).containsExactly("bad (", "): ", "x");
        assertThat(TYPE_NAME_CODE.matcher(rs.get(0).code()).find()).isTrue();
        assertThat(rs.stream().flatMap(r -> r.literals().stream())).contains("got JsonToken.START_ARRAY", "a (b) c")
                .doesNotContain("in a comment: RunConfig");
        assertThat(PARSER.matcher("got JsonToken.START_ARRAY").find()).isTrue();
        assertThat(JAVA.matcher("NullPointerException").find()).isTrue();
        assertThat(JAVA.matcher("woodflow.train.RunConfig").find()).isTrue();
        assertThat(JAVA.matcher("checksum error: data damaged").find()).isFalse();
    }

    /** Code just before a literal that is searched for or replaced, not printed. */
    static final Pattern MATCHING = Pattern.compile("\\.(replace|replaceAll|replaceFirst|contains|indexOf|startsWith"
            + "|endsWith|equals|matches|split)\\(\\s*$");
    static final Pattern NEW_ERROR = Pattern.compile("new\\s+([A-Z]\\w*(?:Exception|Error)|Refused|Busy)\\s*\\(");
    static final Pattern MESSAGE_METHOD = Pattern.compile("\\bString\\s+(\\w*(?i:problem|reason|why|describe|syntax"
            + "|hint|advice|message|plain|lost|missing|oneLine|fix)\\w*)\\s*\\([^)]*\\)\\s*(?:throws[^{]*)?\\{");
    static final Pattern ERROR_PRINT = Pattern.compile("println\\(\\s*\"woodflow: error: \"");

    static List<Region> javaRegions(Path file, String src) {
        List<Region> out = new ArrayList<>();
        Matcher m = NEW_ERROR.matcher(src);
        while (m.find()) {
            int end = closing(src, m.end() - 1, '(', ')');
            out.add(region(file + " new " + m.group(1), src.substring(m.end(), end)));
        }
        m = MESSAGE_METHOD.matcher(src);
        while (m.find()) {
            int end = closing(src, m.end() - 1, '{', '}');
            out.add(region(file + " " + m.group(1) + "()", src.substring(m.end(), end)));
        }
        m = ERROR_PRINT.matcher(src);
        while (m.find()) {
            int open = src.indexOf('(', m.start());
            out.add(region(file + " error line", src.substring(open + 1, closing(src, open, '(', ')'))));
        }
        return out;
    }

    static List<Region> pythonRegions(Path file, String src) {
        List<Region> out = new ArrayList<>();
        Matcher m = Pattern.compile("\\braise\\s+\\w+\\(|\\berror\\(|SystemExit\\(").matcher(src);
        while (m.find()) {
            int end = closing(src, m.end() - 1, '(', ')');
            out.add(region(file + " raise", src.substring(m.end(), end)));
        }
        return out;
    }

    static Region region(String where, String text) {
        List<String> literals = new ArrayList<>();
        StringBuilder code = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\'' && text.startsWith("'", i) && isPythonString(text, i)) {
                // a literal the code looks for or replaces (an engine's wording it translates) is not printed
                boolean matched = MATCHING.matcher(code).find();
                int j = i + 1;
                StringBuilder lit = new StringBuilder();
                while (j < text.length() && text.charAt(j) != c) {
                    if (text.charAt(j) == '\\' && j + 1 < text.length()) j++;
                    lit.append(text.charAt(j++));
                }
                if (!matched) literals.add(lit.toString());
                i = j;
            } else if (c == '\'' && i + 2 < text.length() && text.charAt(i + 2) == '\'') {
                i += 2; // a Java char literal
            } else {
                code.append(c);
            }
        }
        return new Region(where, literals, code.toString());
    }

    /** A quote that opens a Python string (not a Java char literal such as 'x'). */
    private static boolean isPythonString(String text, int i) {
        return !(i + 2 < text.length() && text.charAt(i + 2) == '\'' || i + 3 < text.length()
                && text.charAt(i + 1) == '\\' && text.charAt(i + 3) == '\'');
    }

    /** The index of the bracket that closes the one at {@code open}, skipping string and char literals. */
    static int closing(String s, int open, char o, char c) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '"') {
                if (s.startsWith("\"\"\"", i)) {
                    i = s.indexOf("\"\"\"", i + 3) + 2;
                    continue;
                }
                for (i++; i < s.length() && s.charAt(i) != '"'; i++) if (s.charAt(i) == '\\') i++;
            } else if (ch == '\'' && i + 2 < s.length() && (s.charAt(i + 2) == '\'' || s.charAt(i + 1) == '\\')) {
                i = s.indexOf('\'', i + 2);
            } else if (ch == o) {
                depth++;
            } else if (ch == c && --depth == 0) {
                return i;
            }
        }
        return s.length();
    }

    /** Java source without its comments (string literals kept whole). */
    static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                int j = i + 1;
                if (s.startsWith("\"\"\"", i)) {
                    j = s.indexOf("\"\"\"", i + 3) + 3;
                } else {
                    while (j < s.length() && s.charAt(j) != '"') j += s.charAt(j) == '\\' ? 2 : 1;
                    j++;
                }
                out.append(s, i, Math.min(j, s.length()));
                i = j - 1;
            } else if (c == '\'' && i + 2 < s.length() && (s.charAt(i + 2) == '\'' || s.charAt(i + 1) == '\\')) {
                int j = s.indexOf('\'', i + 2) + 1;
                out.append(s, i, j);
                i = j - 1;
            } else if (s.startsWith("//", i)) {
                i = s.indexOf('\n', i) - 1;
                if (i < 0) break;
            } else if (s.startsWith("/*", i)) {
                i = s.indexOf("*/", i) + 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
