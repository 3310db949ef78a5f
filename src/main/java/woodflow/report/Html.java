package woodflow.report;

import java.util.Base64;

/** Tiny helpers for self-contained HTML reports: escaping, embedded PNGs, one shared stylesheet. */
public final class Html {
    private Html() {}

    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    public static String img(byte[] png, String alt) {
        return "<img alt=\"" + esc(alt) + "\" src=\"data:image/png;base64," + Base64.getEncoder().encodeToString(png)
                + "\">";
    }

    public static final String STYLE = """
            <style>
            body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1300px;margin:2em auto;
                 padding:0 1em;color:#222;background:#fafafa}
            h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
            .sub{color:#666;margin-top:0}
            table{border-collapse:collapse;margin:.5em 0} td,th{padding:.3em .8em;border-bottom:1px solid #e4e4e4;
                 text-align:left} th{background:#f0f0f0} td.num{text-align:right;font-variant-numeric:tabular-nums}
            img{max-width:100%;image-rendering:pixelated;border:1px solid #ddd;background:#fff}
            .grid{display:flex;flex-wrap:wrap;gap:1.2em} .grid figure{margin:0}
            figcaption{color:#555;font-size:.9em;text-align:center}
            pre{background:#f4f4f4;padding:.8em;overflow:auto;font-size:.85em;border-radius:4px}
            .big{font-size:1.5em;font-weight:600}
            .warn{background:#fff4e0;border-left:4px solid #e69500;padding:.5em .8em}
            .files{columns:3;font-size:.9em} code{font-size:.9em}
            </style>
            """;
}
