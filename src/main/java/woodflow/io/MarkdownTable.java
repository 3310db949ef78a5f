package woodflow.io;

import java.util.List;

/**
 * A GitHub-flavoured Markdown table: a header row, the alignment row, then one row per entry. The first
 * {@code leftColumns} columns are left-aligned ({@code ---}), the rest right-aligned ({@code ---:}), as numbers read
 * best.
 */
public final class MarkdownTable {
    private MarkdownTable() {}

    /** A table whose columns are all left-aligned. */
    public static String of(List<String> header, List<? extends List<?>> rows) {
        return of(header, rows, header.size());
    }

    /** A table whose first {@code leftColumns} columns are left-aligned and the others right-aligned. */
    public static String of(List<String> header, List<? extends List<?>> rows, int leftColumns) {
        StringBuilder b = new StringBuilder();
        row(b, header);
        b.append('|');
        for (int i = 0; i < header.size(); i++) b.append(i < leftColumns ? " --- |" : " ---: |");
        b.append('\n');
        for (List<?> r : rows) row(b, r);
        return b.toString();
    }

    private static void row(StringBuilder b, List<?> cells) {
        b.append('|');
        for (Object c : cells) b.append(' ').append(c).append(" |");
        b.append('\n');
    }
}
