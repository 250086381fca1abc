package org.peft4j.segsuite;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.peft4j.eval.HtmlReports;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.suite.SuiteResults;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The segmentation suite's report: a per-domain mIoU table for every method (point prompts, the
 * headline, and box prompts), mean ± standard deviation over seeds, with trainable parameters, as
 * results.md, results.csv, results.json and report.html (bar chart, MoPEFT's gate heat-map per domain,
 * an example mask per domain and method).
 */
public final class SegSuiteReport {

    /** MoPEFT's parts, each alone: what the paper compares the mixture with. */
    static final List<String> SINGLE_METHODS = List.of("lora", "adapter", "prefix", "vpt");

    public static final List<String> FILES = List.of("results.md", "results.csv", "results.json", "report.html");

    private SegSuiteReport() {}

    public static void write(SegSuiteRunner.Result r, Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(r));
        AtomicFiles.writeString(dir.resolve("results.csv"), csv(r));
        AtomicFiles.writeString(dir.resolve("results.json"), Json.toPythonStyle(json(r)) + "\n");
        AtomicFiles.writeString(dir.resolve("report.html"), html(r, dir));
    }

    static List<String> domains(SegSuiteRunner.Result r) {
        Set<String> s = new LinkedHashSet<>();
        r.runs().forEach(x -> s.add(x.domain()));
        return new ArrayList<>(s);
    }

    static List<String> methods(SegSuiteRunner.Result r) {
        Set<String> s = new LinkedHashSet<>();
        r.runs().forEach(x -> s.add(x.method()));
        return new ArrayList<>(s);
    }

    /** Values of {@code key} over the seeds of one domain and method. */
    static List<Double> values(SegSuiteRunner.Result r, String domain, String method, String key) {
        return r.runs().stream().filter(x -> x.domain().equals(domain) && x.method().equals(method))
                .map(x -> ((Number) x.result().get(key)).doubleValue()).toList();
    }

    /** Mean over domains of the per-domain means. */
    static double average(SegSuiteRunner.Result r, String method, String key) {
        double s = 0;
        int n = 0;
        for (String d : domains(r)) {
            double m = SuiteResults.mean(values(r, d, method, key));
            if (!Double.isNaN(m)) {
                s += m;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    public static String table(SegSuiteRunner.Result r, String key) {
        List<String> domains = domains(r);
        StringBuilder sb = new StringBuilder("| method | " + String.join(" | ", domains) + " | mean | trainable params |\n");
        sb.append("|---".repeat(domains.size() + 3)).append("|\n");
        for (String m : methods(r)) {
            sb.append("| ").append(m);
            for (String d : domains) {
                sb.append(" | ").append(SuiteResults.percentCell(values(r, d, m, key)));
            }
            List<Double> params = values(r, domains.get(0), m, "trainable_params");
            sb.append(" | ").append(SuiteResults.percent(average(r, m, key))).append(" | ")
                    .append(params.isEmpty() ? "–" : String.format(Locale.ROOT, "%,d", params.get(0).longValue())).append(" |\n");
        }
        return sb.toString();
    }

    static String markdown(SegSuiteRunner.Result r) {
        return "# Segmentation suite\n\n" + settingsLine(r) + "\n\n## mIoU (%), one point per region\n\n"
                + table(r, "miou_point") + "\n## mIoU (%), one box per region\n\n" + table(r, "miou_box") + "\n"
                + verdict(r) + "\n";
    }

    /** Whether MoPEFT beats the best single method on average (the paper's claim), in one sentence. */
    public static String verdict(SegSuiteRunner.Result r) {
        List<String> methods = methods(r);
        if (!methods.contains("mopeft") || methods.size() < 2) {
            return "";
        }
        double mo = average(r, "mopeft", "miou_point");
        String best = null;
        double bestValue = -1;
        for (String m : methods) {
            double v = average(r, m, "miou_point");
            if (SINGLE_METHODS.contains(m) && v > bestValue) {
                best = m;
                bestValue = v;
            }
        }
        if (best == null) {
            return "";
        }
        return String.format(Locale.ROOT, "MoPEFT averages %.1f mIoU (point prompts) against %.1f for the best single "
                + "method (%s): it %s.", 100 * mo, 100 * bestValue, best, mo > bestValue ? "beats it, as the paper claims"
                : "does not beat it here");
    }

    static String settingsLine(SegSuiteRunner.Result r) {
        Map<String, Object> s = r.settings();
        return String.format(Locale.ROOT, "Model %s; profile %s: %s train / %s test images per domain, %s epochs, batch %s, "
                        + "lr %s, AdamW + cosine; decoder %s. mIoU is the mean IoU of the foreground classes over the "
                        + "test split; seeds: %d.", s.get("model"), s.get("profile"), s.get("train_images"),
                s.get("test_images"), s.get("epochs"), s.get("batch_size"), s.get("learning_rate"),
                Boolean.TRUE.equals(s.get("tune_decoder")) ? "tuned with every adapter" : "frozen (except decoder-only)",
                r.runs().stream().mapToInt(SegSuiteRunner.Run::seed).max().orElse(0) + 1);
    }

    static String csv(SegSuiteRunner.Result r) {
        StringBuilder sb = new StringBuilder("domain,method,seed,miou_point,miou_box,trainable_params,seconds\n");
        for (SegSuiteRunner.Run x : r.runs()) {
            sb.append(x.domain()).append(',').append(HtmlReports.csvField(x.method())).append(',').append(x.seed());
            for (String k : List.of("miou_point", "miou_box", "trainable_params", "seconds")) {
                sb.append(',').append(x.result().get(k));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static Map<String, Object> json(SegSuiteRunner.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("settings", r.settings());
        Map<String, Object> summary = new LinkedHashMap<>();
        for (String method : methods(r)) {
            Map<String, Object> per = new LinkedHashMap<>();
            for (String d : domains(r)) {
                List<Double> v = values(r, d, method, "miou_point");
                List<Double> b = values(r, d, method, "miou_box");
                per.put(d, Map.of("miou_point_mean", SuiteResults.mean(v), "miou_point_std", SuiteResults.std(v),
                        "miou_box_mean", SuiteResults.mean(b), "miou_box_std", SuiteResults.std(b), "seeds", v.size()));
            }
            per.put("mean_miou_point", average(r, method, "miou_point"));
            per.put("mean_miou_box", average(r, method, "miou_box"));
            summary.put(method, per);
        }
        m.put("summary", summary);
        List<Map<String, Object>> runs = new ArrayList<>();
        r.runs().forEach(x -> runs.add(x.result()));
        m.put("runs", runs);
        return m;
    }

    static String html(SegSuiteRunner.Result r, Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Segmentation suite</title>")
                .append(HtmlReports.STYLE).append("</head><body><h1>Segmentation suite</h1><p>")
                .append(HtmlReports.escape(settingsLine(r))).append("</p>");
        sb.append("<h2>mIoU (%), point prompts</h2>").append(htmlTable(r, "miou_point"));
        sb.append("<h2>mIoU (%), box prompts</h2>").append(htmlTable(r, "miou_box"));
        sb.append("<p>").append(HtmlReports.escape(verdict(r))).append("</p>");
        sb.append(HtmlReports.image(perDomain(r), "mIoU per domain and method"));
        List<String> domains = domains(r);
        boolean gates = r.runs().stream().anyMatch(x -> x.result().get("gates") != null);
        if (gates) {
            sb.append("<h2>MoPEFT gates</h2><p>Mean gate value on the test images per encoder block and submodule "
                    + "(seed 0): which PEFT method the data chose where.</p>");
            for (String d : domains) {
                HeatMapChart chart = gateHeatMap(r, d);
                if (chart != null) {
                    sb.append(HtmlReports.image(chart, "MoPEFT gates, " + d));
                }
            }
        }
        sb.append("<h2>Examples</h2><p>The first test image of each domain: image | truth | prediction from point prompts.</p>");
        for (String d : domains) {
            sb.append("<h3>").append(HtmlReports.escape(d)).append("</h3><div style=\"display:flex;flex-wrap:wrap;gap:1em\">");
            for (SegSuiteRunner.Run x : r.runs()) {
                if (x.domain().equals(d) && x.seed() == 0) {
                    Path pic = x.dir().resolve(ExamplePictures.FILE);
                    sb.append("<figure><img src=\"").append(HtmlReports.escape(dir.relativize(pic).toString()))
                            .append("\"><figcaption>").append(HtmlReports.escape(x.method())).append("</figcaption></figure>");
                }
            }
            sb.append("</div>");
        }
        return sb.append("</body></html>\n").toString();
    }

    private static String htmlTable(SegSuiteRunner.Result r, String key) {
        List<String> domains = domains(r);
        StringBuilder sb = new StringBuilder("<table><tr><th>method</th>");
        domains.forEach(d -> sb.append("<th>").append(HtmlReports.escape(d)).append("</th>"));
        sb.append("<th>mean</th></tr>");
        for (String m : methods(r)) {
            sb.append("<tr><td>").append(HtmlReports.escape(m)).append("</td>");
            for (String d : domains) {
                sb.append("<td>").append(SuiteResults.percentCell(values(r, d, m, key))).append("</td>");
            }
            sb.append("<td><b>").append(SuiteResults.percent(average(r, m, key))).append("</b></td></tr>");
        }
        return sb.append("</table>").toString();
    }

    private static CategoryChart perDomain(SegSuiteRunner.Result r) {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(420).title("mIoU (point prompts)")
                .xAxisTitle("domain").yAxisTitle("mIoU %").build();
        List<String> domains = domains(r);
        int i = 0;
        for (String m : methods(r)) {
            List<Double> ys = new ArrayList<>();
            for (String d : domains) {
                ys.add(100 * SuiteResults.mean(values(r, d, m, "miou_point")));
            }
            chart.addSeries(m, domains, ys).setFillColor(HtmlReports.PALETTE[i++ % HtmlReports.PALETTE.length]);
        }
        return chart;
    }

    @SuppressWarnings("unchecked")
    private static HeatMapChart gateHeatMap(SegSuiteRunner.Result r, String domain) {
        for (SegSuiteRunner.Run x : r.runs()) {
            if (!x.domain().equals(domain) || x.seed() != 0 || !(x.result().get("gates") instanceof Map<?, ?> g)) {
                continue;
            }
            Map<String, Map<String, Double>> gates = (Map<String, Map<String, Double>>) g;
            List<String> blocks = new ArrayList<>(gates.keySet());
            Set<String> subs = new LinkedHashSet<>();
            gates.values().forEach(m -> subs.addAll(m.keySet()));
            List<String> subList = new ArrayList<>(subs);
            List<Number[]> cells = new ArrayList<>();
            for (int b = 0; b < blocks.size(); b++) {
                for (int s = 0; s < subList.size(); s++) {
                    Object v = gates.get(blocks.get(b)).get(subList.get(s));
                    cells.add(new Number[] {s, b, v == null ? 0.0 : ((Number) v).doubleValue()});
                }
            }
            List<String> blockNames = blocks.stream().map(p -> p.replaceAll(".*\\.", "block ")).toList();
            HeatMapChart chart = new HeatMapChartBuilder().width(520).height(80 + 40 * blocks.size())
                    .title("MoPEFT gates: " + domain + " (" + x.method() + ")").build();
            chart.getStyler().setShowValue(true);
            chart.getStyler().setHeatMapValueDecimalPattern("0.00");
            chart.getStyler().setMin(0); // gates are sigmoids: one scale for every domain
            chart.getStyler().setMax(1);
            chart.addSeries("gate", subList, blockNames, cells);
            return chart;
        }
        return null;
    }
}
