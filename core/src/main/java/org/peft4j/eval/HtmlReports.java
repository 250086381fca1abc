package org.peft4j.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import java.awt.Color;
import java.io.IOException;
import java.util.Base64;
import java.util.stream.Stream;

/** What the HTML reports share: escaping, the colour palette, charts embedded as PNG data URIs, CSV fields. */
public final class HtmlReports {

    /** Tableau 10: distinguishable, and readable by most colour-blind people. */
    public static final Color[] PALETTE = Stream.of("4E79A7", "F28E2B", "E15759", "76B7B2", "59A14F", "EDC948",
            "B07AA1", "FF9DA7", "9C755F", "BAB0AC").map(h -> new Color(Integer.parseInt(h, 16))).toArray(Color[]::new);

    /** The page style: tables with right-aligned numbers, images full width. */
    public static final String STYLE = "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}"
            + "table{border-collapse:collapse;font-size:0.9em;margin:1em 0}"
            + "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}"
            + "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
            + "td.group{background:#f7f7ff}td.mean{background:#eef;font-weight:bold}"
            + "img{max-width:100%;display:block;margin:1.5em 0}p.note{color:#555;font-size:0.9em}</style>\n";

    private HtmlReports() {}

    public static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The chart as an {@code <img>} holding its PNG. */
    public static String image(Chart<?, ?> chart, String alt) throws IOException {
        System.setProperty("java.awt.headless", "true");
        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        return "<img alt=\"" + escape(alt) + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png) + "\">\n";
    }

    /** A CSV field, quoted when it holds a comma or a quote. */
    public static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
