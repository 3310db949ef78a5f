package woodflow.io;

import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import com.github.mustachejava.MustacheFactory;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Base64;

/**
 * woodflow's HTML pages — the run report, a study's report, the dashboard's pages — rendered from the Mustache
 * templates in the jar under {@code woodflow/html/} (mustache.java), never by string concatenation. Every page takes
 * its {@code <head>} from the one shared partial {@code head.mustache}: a report is self-contained (its stylesheet
 * inline, {@code report-style.mustache}, and its images as data URIs), a dashboard page links the dashboard's own
 * stylesheets and scripts.
 *
 * <p>{@code {{value}}} escapes {@code & < > "}, as an attribute or text needs; {@code {{{value}}}} inserts as is (a
 * data URI).
 */
public final class Html {
    private static final MustacheFactory TEMPLATES = new DefaultMustacheFactory("woodflow/html") {
        @Override
        public void encode(String value, Writer writer) {
            try {
                writer.write(escape(value));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private Html() {}

    /** The page {@code template} (a file under woodflow/html/ in the jar) rendered with the values of {@code scope}. */
    public static String render(String template, Object scope) {
        Mustache m = TEMPLATES.compile(template);
        StringWriter out = new StringWriter();
        m.execute(out, scope);
        return out.toString();
    }

    /** {@code s} with {@code & < > "} as entities: safe as text and in a double-quoted attribute. */
    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** A PNG as a {@code data:} URI, so a page carries its images with it. */
    public static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }
}
