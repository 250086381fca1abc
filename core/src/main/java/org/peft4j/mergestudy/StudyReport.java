package org.peft4j.mergestudy;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.peft4j.eval.HtmlReports;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.mergestudy.MergeStudy.MergeScore;
import org.peft4j.mergestudy.MergeStudy.Results;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The merge study's tables and plots: results.md (headline table, per-task references, the
 * similarity finding), results.csv (one row per task of every merge), results.json (everything),
 * report.html (tables, similarity-vs-drop scatter plots, accuracy by method).
 *
 * <p>The drop of a merge is the mean, over its tasks, of single-adapter accuracy minus merged
 * accuracy, in points; a task's merged score "holds" when it is at least its head-only score.
 */
public final class StudyReport {

    public static final List<String> FILES = List.of("results.md", "results.csv", "results.json", "report.html");

    /** One merge (a combination, a method): its tasks' mean accuracy, drop and similarities. */
    public record Merge(List<String> combo, String method, double accuracy, double drop, double headOnly,
                        Map<String, Double> similarity) {}

    /** A method's summary over the merges of one size, and its correlations with similarity. */
    public record MethodSummary(String method, Map<Integer, Double> accuracy, Map<Integer, Double> drop,
                                double holdsHeadOnly, Map<String, Double> correlation) {}

    private StudyReport() {}

    public static void write(Results r, Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(r));
        AtomicFiles.writeString(dir.resolve("results.csv"), csv(r));
        AtomicFiles.writeString(dir.resolve("results.json"), Json.toPythonStyle(json(r)) + "\n");
        AtomicFiles.writeString(dir.resolve("report.html"), html(r));
    }

    // ---- derived numbers ----

    public static List<Merge> merges(Results r) {
        Map<String, List<MergeScore>> grouped = new LinkedHashMap<>();
        for (MergeScore s : r.merges()) {
            grouped.computeIfAbsent(String.join("+", s.combo()) + "|" + s.method(), k -> new ArrayList<>()).add(s);
        }
        List<Merge> out = new ArrayList<>();
        for (List<MergeScore> g : grouped.values()) {
            List<String> combo = g.get(0).combo();
            double acc = g.stream().mapToDouble(MergeScore::accuracy).average().orElse(Double.NaN);
            double drop = g.stream().mapToDouble(s -> r.single().get(s.task()) - s.accuracy()).average().orElse(Double.NaN);
            double head = combo.stream().mapToDouble(t -> r.headOnly().get(t)).average().orElse(Double.NaN);
            Map<String, Double> sim = new LinkedHashMap<>();
            Similarity.MEASURES.forEach(m -> sim.put(m, r.similarity().mean(m, combo)));
            out.add(new Merge(combo, g.get(0).method(), acc, drop, head, sim));
        }
        return out;
    }

    public static List<MethodSummary> summaries(Results r) {
        List<Merge> merges = merges(r);
        List<MethodSummary> out = new ArrayList<>();
        for (String method : r.methods()) {
            List<Merge> mine = merges.stream().filter(m -> m.method().equals(method)).toList();
            Map<Integer, Double> acc = new LinkedHashMap<>();
            Map<Integer, Double> drop = new LinkedHashMap<>();
            sizes(r).forEach(k -> {
                acc.put(k, mine.stream().filter(m -> m.combo().size() == k).mapToDouble(Merge::accuracy).average().orElse(Double.NaN));
                drop.put(k, mine.stream().filter(m -> m.combo().size() == k).mapToDouble(Merge::drop).average().orElse(Double.NaN));
            });
            List<MergeScore> scores = r.merges().stream().filter(s -> s.method().equals(method)).toList();
            double holds = scores.stream().filter(s -> s.accuracy() >= r.headOnly().get(s.task())).count()
                    / (double) Math.max(1, scores.size());
            Map<String, Double> corr = new LinkedHashMap<>();
            for (String measure : Similarity.MEASURES) {
                corr.put(measure, pearson(mine.stream().mapToDouble(m -> m.similarity().get(measure)).toArray(),
                        mine.stream().mapToDouble(Merge::drop).toArray()));
            }
            out.add(new MethodSummary(method, acc, drop, holds, corr));
        }
        return out;
    }

    /** Over every merge of every method: the correlation of each similarity with the drop. */
    public static Map<String, Double> pooledCorrelation(Results r) {
        List<Merge> merges = merges(r);
        Map<String, Double> out = new LinkedHashMap<>();
        for (String measure : Similarity.MEASURES) {
            out.put(measure, pearson(merges.stream().mapToDouble(m -> m.similarity().get(measure)).toArray(),
                    merges.stream().mapToDouble(Merge::drop).toArray()));
        }
        return out;
    }

    private static List<Integer> sizes(Results r) {
        return r.merges().stream().map(s -> s.combo().size()).distinct().sorted().toList();
    }

    static double pearson(double[] x, double[] y) {
        int n = x.length;
        if (n < 3) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i] / n;
            my += y[i] / n;
        }
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }

    // ---- markdown ----

    private static String sizeName(int k) {
        return switch (k) {
            case 2 -> "pairs";
            case 3 -> "triples";
            default -> k + "-task merges";
        };
    }

    public static String headline(Results r) {
        List<Integer> sizes = sizes(r);
        StringBuilder sb = new StringBuilder("| method |");
        StringBuilder rule = new StringBuilder("|---|");
        for (int k : sizes) {
            sb.append(' ').append(sizeName(k)).append(": merged | ").append(sizeName(k)).append(": drop |");
            rule.append("---:|---:|");
        }
        sb.append(" ≥ head-only | r(data sim, drop) | r(ΔW cos, drop) | r(CKA, drop) |\n");
        rule.append("---:|---:|---:|---:|\n");
        sb.append(rule);
        for (MethodSummary m : summaries(r)) {
            sb.append("| ").append(m.method()).append(" |");
            for (int k : sizes) {
                sb.append(' ').append(pct(m.accuracy().get(k))).append(" | ").append(points(m.drop().get(k))).append(" |");
            }
            sb.append(' ').append(String.format(Locale.ROOT, "%.0f%%", 100 * m.holdsHeadOnly())).append(" |");
            for (String measure : Similarity.MEASURES) {
                sb.append(' ').append(corr(m.correlation().get(measure))).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static String markdown(Results r) {
        StringBuilder sb = new StringBuilder("# peft4j merge study\n\n");
        sb.append("- ").append(backboneLine(r)).append('\n');
        sb.append("- ").append(protocolLine(r)).append("\n\n");
        sb.append(headline(r)).append('\n');
        sb.append(LEGEND).append("\n\n");
        sb.append("## Per task: single adapter, head-only, and merged\n\n").append(perTask(r)).append('\n')
                .append(PER_TASK_LEGEND).append("\n\n");
        sb.append(finding(r)).append("\n\n");
        for (String measure : Similarity.MEASURES) {
            sb.append("## Similarity: ").append(measure).append("\n\n").append(matrix(r, measure)).append('\n');
        }
        return sb.toString();
    }

    static final String LEGEND = "Top-1 test accuracy in %, mean over the merges of that size and their tasks. "
            + "drop: single-adapter accuracy minus merged accuracy, in points (lower is better). ≥ head-only: share of "
            + "the tasks' merged scores at least as good as that task's head-only (frozen backbone) score. r: Pearson "
            + "correlation, over this method's merges, of the tasks' mean pairwise similarity with the drop (positive: "
            + "more similar tasks lose more).";

    static final String PER_TASK_LEGEND = "Top-1 test accuracy in %: the task's own LoRA, its head-only model, and per "
            + "method the mean over every merge (pairs and triples) that contains the task, scored with its own head.";

    /** Per task: single adapter, head-only, and each method's mean over the merges holding the task. */
    public static String perTask(Results r) {
        StringBuilder sb = new StringBuilder("| task | single LoRA | head-only |");
        r.methods().forEach(m -> sb.append(' ').append(m).append(" |"));
        sb.append("\n|---|---:|---:|").append("---:|".repeat(r.methods().size())).append('\n');
        for (String t : r.tasks()) {
            sb.append("| ").append(t).append(" | ").append(pct(r.single().get(t))).append(" | ")
                    .append(pct(r.headOnly().get(t))).append(" |");
            for (String m : r.methods()) {
                double mean = r.merges().stream().filter(s -> s.method().equals(m) && s.task().equals(t))
                        .mapToDouble(MergeScore::accuracy).average().orElse(Double.NaN);
                sb.append(' ').append(pct(mean)).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The paper's finding, tested: does similarity go with a larger drop? */
    public static String finding(Results r) {
        Map<String, Double> pooled = pooledCorrelation(r);
        double data = pooled.get("data");
        StringBuilder sb = new StringBuilder("**Does merging dissimilar tasks cost less?** Over all ")
                .append(merges(r).size()).append(" merges, the drop correlates with the tasks' data similarity at r = ")
                .append(corr(data)).append(", with their ΔW cosine at r = ").append(corr(pooled.get("delta")))
                .append(" and with the CKA of their adapted features at r = ").append(corr(pooled.get("cka"))).append(". ");
        if (Double.isNaN(data)) {
            sb.append("Too few merges to say.");
        } else if (data > 0.2) {
            sb.append("More similar data, larger drop: this agrees with the paper's finding that dissimilar tasks merge better.");
        } else if (data < -0.2) {
            sb.append("More similar data, smaller drop: this contradicts the paper's finding here.");
        } else {
            sb.append("No clear relation between data similarity and the drop here (|r| ≤ 0.2).");
        }
        return sb.toString();
    }

    private static String matrix(Results r, String measure) {
        StringBuilder sb = new StringBuilder("| |");
        r.tasks().forEach(t -> sb.append(' ').append(t).append(" |"));
        sb.append("\n|---|").append("---:|".repeat(r.tasks().size())).append('\n');
        for (String a : r.tasks()) {
            sb.append("| ").append(a).append(" |");
            for (String b : r.tasks()) {
                sb.append(String.format(Locale.ROOT, " %.2f |", r.similarity().get(measure, a, b)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String backboneLine(Results r) {
        return "Backbone: " + r.backbone().get("name") + " (" + r.backbone().get("path") + ")";
    }

    @SuppressWarnings("unchecked")
    private static String protocolLine(Results r) {
        Map<String, Object> p = (Map<String, Object>) r.settings().get("protocol");
        return String.format(Locale.ROOT, "Profile %s: one LoRA (r=8 on query, value, own head) and one head-only "
                        + "model per task, trained on %s + %s images for %s epochs, scored on %s test images; "
                        + "tasks: %s", p.get("profile"), p.get("train"), p.get("val"), p.get("epochs"), p.get("test"),
                String.join(", ", r.tasks()));
    }

    private static String pct(Double v) {
        return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.1f", 100 * v);
    }

    private static String points(Double v) {
        return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%+.1f", 100 * v);
    }

    private static String corr(Double v) {
        return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%+.2f", v);
    }

    // ---- csv and json ----

    public static String csv(Results r) {
        StringBuilder sb = new StringBuilder("combo,size,method,task,single,head_only,merged,drop,sim_data,sim_delta,sim_cka\n");
        for (MergeScore s : r.merges()) {
            sb.append(HtmlReports.csvField(String.join("+", s.combo()))).append(',').append(s.combo().size()).append(',')
                    .append(HtmlReports.csvField(s.method())).append(',').append(s.task()).append(',')
                    .append(r.single().get(s.task())).append(',').append(r.headOnly().get(s.task())).append(',')
                    .append(s.accuracy()).append(',').append(r.single().get(s.task()) - s.accuracy());
            for (String m : Similarity.MEASURES) {
                sb.append(',').append(r.similarity().mean(m, s.combo()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static Map<String, Object> json(Results r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("settings", r.settings());
        out.put("backbone", r.backbone());
        out.put("tasks", r.tasks());
        out.put("methods", r.methods());
        out.put("single", r.single());
        out.put("head_only", r.headOnly());
        out.put("similarity", r.similarity().toJson());
        List<Map<String, Object>> summaries = new ArrayList<>();
        for (MethodSummary m : summaries(r)) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("method", m.method());
            Map<String, Object> bySize = new LinkedHashMap<>();
            m.accuracy().forEach((k, v) -> bySize.put(sizeName(k), Map.of("accuracy", v, "drop", m.drop().get(k))));
            s.put("by_size", bySize);
            s.put("holds_head_only", m.holdsHeadOnly());
            s.put("correlation_with_drop", m.correlation());
            summaries.add(s);
        }
        out.put("summary", summaries);
        out.put("pooled_correlation_with_drop", pooledCorrelation(r));
        List<Map<String, Object>> merges = new ArrayList<>();
        for (Merge m : merges(r)) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("combo", m.combo());
            e.put("method", m.method());
            e.put("accuracy", m.accuracy());
            e.put("drop", m.drop());
            e.put("head_only", m.headOnly());
            e.put("similarity", m.similarity());
            Map<String, Double> tasks = new LinkedHashMap<>();
            r.merges().stream().filter(s -> s.combo().equals(m.combo()) && s.method().equals(m.method()))
                    .forEach(s -> tasks.put(s.task(), s.accuracy()));
            e.put("tasks", tasks);
            merges.add(e);
        }
        out.put("merges", merges);
        return out;
    }

    // ---- html ----

    public static String html(Results r) throws IOException {
        StringBuilder sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<title>peft4j merge study</title>\n").append(HtmlReports.STYLE)
                .append("</head><body>\n<h1>peft4j merge study</h1>\n<p>")
                .append(HtmlReports.escape(backboneLine(r))).append("<br>")
                .append(HtmlReports.escape(protocolLine(r))).append("</p>\n");
        sb.append(htmlTable(headline(r)));
        sb.append("<p class=\"note\">").append(HtmlReports.escape(LEGEND)).append("</p>\n");
        sb.append("<p>").append(HtmlReports.escape(finding(r).replace("**", ""))).append("</p>\n");
        sb.append(HtmlReports.image(scatter(r, "data", "data similarity (centred mean-feature cosine)"),
                "accuracy drop against data similarity"));
        sb.append(HtmlReports.image(scatter(r, "delta", "ΔW cosine"), "accuracy drop against ΔW cosine"));
        sb.append(HtmlReports.image(byMethod(r), "merged accuracy by method"));
        sb.append("<h2>Per task</h2>\n").append(htmlTable(perTask(r)))
                .append("<p class=\"note\">").append(HtmlReports.escape(PER_TASK_LEGEND)).append("</p>\n");
        for (String measure : Similarity.MEASURES) {
            sb.append("<h2>Similarity: ").append(measure).append("</h2>\n").append(htmlTable(matrix(r, measure)));
        }
        return sb.append("</body></html>\n").toString();
    }

    /** A markdown table (as written above) as an HTML table. */
    private static String htmlTable(String markdown) {
        StringBuilder sb = new StringBuilder("<table>\n");
        List<String> lines = markdown.lines().filter(l -> l.startsWith("|")).toList();
        for (int i = 0; i < lines.size(); i++) {
            if (i == 1) {
                continue; // the rule
            }
            String[] cells = lines.get(i).substring(1, lines.get(i).length() - 1).split("\\|", -1);
            String tag = i == 0 ? "th" : "td";
            sb.append("<tr>");
            for (String c : cells) {
                sb.append('<').append(tag).append('>').append(HtmlReports.escape(c.strip())).append("</").append(tag).append('>');
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    static XYChart scatter(Results r, String measure, String axis) {
        XYChart chart = new XYChartBuilder().width(900).height(520)
                .title("Accuracy drop of each merge against the tasks' " + axis)
                .xAxisTitle(axis + ", mean over the merged pairs").yAxisTitle("drop vs single adapter (points)").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setSeriesColors(HtmlReports.PALETTE);
        List<Merge> merges = merges(r);
        for (String method : r.methods()) {
            List<Merge> mine = merges.stream().filter(m -> m.method().equals(method)).toList();
            if (mine.isEmpty()) {
                continue;
            }
            XYSeries s = chart.addSeries(method, mine.stream().mapToDouble(m -> m.similarity().get(measure)).toArray(),
                    mine.stream().mapToDouble(m -> 100 * m.drop()).toArray());
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }

    static CategoryChart byMethod(Results r) {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(480)
                .title("Mean merged accuracy by method and merge size (last two: single adapter and head-only, for reference)")
                .yAxisTitle("accuracy (%)").build();
        chart.getStyler().setSeriesColors(HtmlReports.PALETTE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(100.0);
        chart.getStyler().setXAxisLabelRotation(20);
        List<String> categories = new ArrayList<>(r.methods());
        categories.add("single adapter");
        categories.add("head-only");
        double single = 100 * r.single().values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double head = 100 * r.headOnly().values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
        List<MethodSummary> summaries = summaries(r);
        for (int k : sizes(r)) {
            List<Double> values = new ArrayList<>();
            summaries.forEach(m -> values.add(100 * m.accuracy().get(k)));
            values.add(single);
            values.add(head);
            chart.addSeries(sizeName(k), categories, values);
        }
        return chart;
    }
}
