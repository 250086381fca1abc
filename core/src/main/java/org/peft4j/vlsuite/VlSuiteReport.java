package org.peft4j.vlsuite;

import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.peft4j.eval.HtmlReports;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.suite.SuiteResults;
import org.peft4j.tuners.routing.Routing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The vision-language suite's report: per task a method × routing table of the headline score
 * (VQA accuracy; CIDEr-D of the beam-search captions), mean ± standard deviation over seeds, the
 * gain of each routing over the unrouted method, trainable parameters and time; as results.md,
 * results.csv, results.json and report.html (charts, example answers and captions with their images).
 */
public final class VlSuiteReport {

    public static final List<String> FILES = List.of("results.md", "results.csv", "results.json", "report.html");

    private VlSuiteReport() {}

    public static void write(VlSuiteRunner.Result r, Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(r));
        AtomicFiles.writeString(dir.resolve("results.csv"), csv(r));
        AtomicFiles.writeString(dir.resolve("results.json"), Json.toPythonStyle(json(r)) + "\n");
        AtomicFiles.writeString(dir.resolve("report.html"), html(r, dir));
    }

    /** The score a task is ranked by, and how it is named. */
    static String metric(String task) {
        return task.equals("vqa") ? "vqa_accuracy" : "cider";
    }

    static String metricName(String task) {
        return task.equals("vqa") ? "VQA accuracy (%)" : "CIDEr-D (×100)";
    }

    static List<String> tasks(VlSuiteRunner.Result r) {
        Set<String> s = new LinkedHashSet<>();
        r.runs().forEach(x -> s.add(x.task()));
        return new ArrayList<>(s);
    }

    static List<String> methods(VlSuiteRunner.Result r) {
        Set<String> s = new LinkedHashSet<>();
        r.runs().forEach(x -> s.add(x.cell().method().cliName));
        return new ArrayList<>(s);
    }

    static List<String> routings(VlSuiteRunner.Result r) {
        Set<String> present = new LinkedHashSet<>();
        r.runs().forEach(x -> present.add(x.cell().routing().cliName));
        List<String> out = new ArrayList<>();
        for (Routing routing : Routing.values()) {
            if (present.contains(routing.cliName)) {
                out.add(routing.cliName);
            }
        }
        return out;
    }

    static List<VlSuiteRunner.Run> runs(VlSuiteRunner.Result r, String task, String method, String routing) {
        return r.runs().stream().filter(x -> x.task().equals(task) && x.cell().method().cliName.equals(method)
                && x.cell().routing().cliName.equals(routing)).toList();
    }

    static List<Double> values(VlSuiteRunner.Result r, String task, String method, String routing, String key) {
        return runs(r, task, method, routing).stream().map(x -> x.result().get(key)).filter(v -> v instanceof Number)
                .map(v -> ((Number) v).doubleValue()).toList();
    }

    static double mean(VlSuiteRunner.Result r, String task, String method, String routing) {
        return SuiteResults.mean(values(r, task, method, routing, metric(task)));
    }

    /** Method rows, routing columns, the headline score; trainable parameters and seconds per run. */
    public static String table(VlSuiteRunner.Result r, String task) {
        List<String> routings = routings(r);
        StringBuilder sb = new StringBuilder("| method | " + String.join(" | ", routings) + " | trainable params | s/run |\n");
        sb.append("|---".repeat(routings.size() + 3)).append("|\n");
        for (String m : methods(r)) {
            sb.append("| ").append(m);
            long params = -1;
            List<Double> seconds = new ArrayList<>();
            for (String routing : routings) {
                sb.append(" | ").append(SuiteResults.percentCell(values(r, task, m, routing, metric(task))));
                List<Double> p = values(r, task, m, routing, "trainable_params");
                if (!p.isEmpty()) {
                    params = p.get(0).longValue();
                }
                seconds.addAll(values(r, task, m, routing, "seconds"));
            }
            sb.append(" | ").append(params < 0 ? "–" : String.format(Locale.ROOT, "%,d", params)).append(" | ")
                    .append(seconds.isEmpty() ? "–" : String.format(Locale.ROOT, "%.0f", SuiteResults.mean(seconds))).append(" |\n");
        }
        return sb.toString();
    }

    /** The best routed cell against the unrouted one, per method, in sentences. */
    public static String verdict(VlSuiteRunner.Result r, String task) {
        StringBuilder sb = new StringBuilder();
        for (String m : methods(r)) {
            if (m.equals("cross-attn")) {
                continue;
            }
            double none = mean(r, task, m, "none");
            String best = null;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (String routing : routings(r)) {
                double v = mean(r, task, m, routing);
                if (!routing.equals("none") && !Double.isNaN(v) && v > bestValue) {
                    best = routing;
                    bestValue = v;
                }
            }
            if (best == null || Double.isNaN(none)) {
                continue;
            }
            double gain = none == 0 ? Double.NaN : 100 * (bestValue - none) / Math.abs(none);
            sb.append(String.format(Locale.ROOT, "%s %s: the best routing is %s at %s against %s unrouted (%+.1f%% relative).%n",
                    task, m, best, SuiteResults.percent(bestValue), SuiteResults.percent(none), gain));
        }
        double cross = mean(r, task, "cross-attn", "none");
        if (!Double.isNaN(cross)) {
            sb.append(String.format(Locale.ROOT, "%s cross-attention baseline: %s.%n", task, SuiteResults.percent(cross)));
        }
        return sb.toString();
    }

    static String settingsLine(VlSuiteRunner.Result r) {
        Map<String, Object> s = r.settings();
        return String.format(Locale.ROOT, "Vision model %s (frozen), text model %s (frozen); profile %s: VQA %s train / %s test "
                        + "questions, %s epochs; captioning %s train / %s test images (5 captions each), %s epochs, beam %s; "
                        + "LoRA r = α = %s on query/value (GPT-2: c_attn's q and v slices), adapters of width %s after attention "
                        + "and MLP, cross-attention of width r; AdamW lr %s, batch %s, warm-up + cosine; seeds: %d.",
                s.get("vision_model"), s.get("text_model"), s.get("profile"), s.get("vqa_train_questions"),
                s.get("vqa_test_questions"), s.get("vqa_epochs"), s.get("caption_train_images"), s.get("caption_test_images"),
                s.get("caption_epochs"), s.get("beams"), s.get("rank"), s.get("adapter_bottleneck"), s.get("learning_rate"),
                s.get("batch_size"), r.runs().stream().mapToInt(VlSuiteRunner.Run::seed).max().orElse(0) + 1);
    }

    static String markdown(VlSuiteRunner.Result r) {
        StringBuilder sb = new StringBuilder("# Vision-language suite\n\n").append(settingsLine(r)).append("\n\n");
        for (String task : tasks(r)) {
            sb.append("## ").append(task).append(": ").append(metricName(task)).append("\n\n").append(table(r, task)).append('\n')
                    .append(verdict(r, task)).append('\n');
            if (task.equals("vqa")) {
                sb.append("Relational / non-relational questions (mean over seeds):\n\n").append(kinds(r)).append('\n');
            }
        }
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static String kinds(VlSuiteRunner.Result r) {
        StringBuilder sb = new StringBuilder("| cell | relational | non-relational |\n|---|---|---|\n");
        for (String m : methods(r)) {
            for (String routing : routings(r)) {
                List<VlSuiteRunner.Run> rs = runs(r, "vqa", m, routing);
                if (rs.isEmpty()) {
                    continue;
                }
                List<Double> rel = new ArrayList<>();
                List<Double> non = new ArrayList<>();
                for (VlSuiteRunner.Run x : rs) {
                    Map<String, Object> kinds = (Map<String, Object>) x.result().get("by_kind");
                    if (kinds != null) {
                        if (kinds.get("relational") instanceof Number n) {
                            rel.add(n.doubleValue());
                        }
                        if (kinds.get("non-relational") instanceof Number n) {
                            non.add(n.doubleValue());
                        }
                    }
                }
                sb.append("| ").append(rs.get(0).cell().label()).append(" | ").append(SuiteResults.percentCell(rel)).append(" | ").append(SuiteResults.percentCell(non)).append(" |\n");
            }
        }
        return sb.toString();
    }

    static String csv(VlSuiteRunner.Result r) {
        StringBuilder sb = new StringBuilder("task,method,routing,seed,vqa_accuracy,bleu4,cider,trainable_params,seconds\n");
        for (VlSuiteRunner.Run x : r.runs()) {
            sb.append(x.task()).append(',').append(x.cell().method().cliName).append(',').append(x.cell().routing().cliName)
                    .append(',').append(x.seed());
            for (String k : List.of("vqa_accuracy", "bleu4", "cider", "trainable_params", "seconds")) {
                Object v = x.result().get(k);
                sb.append(',').append(v == null ? "" : v);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static Map<String, Object> json(VlSuiteRunner.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("settings", r.settings());
        Map<String, Object> summary = new LinkedHashMap<>();
        for (String task : tasks(r)) {
            Map<String, Object> perTask = new LinkedHashMap<>();
            for (String method : methods(r)) {
                for (String routing : routings(r)) {
                    List<Double> v = values(r, task, method, routing, metric(task));
                    if (!v.isEmpty()) {
                        perTask.put(method + "/" + routing, Map.of("mean", SuiteResults.mean(v), "std", SuiteResults.std(v),
                                "seeds", v.size()));
                    }
                }
            }
            summary.put(task, perTask);
        }
        m.put("summary", summary);
        List<Map<String, Object>> runs = new ArrayList<>();
        r.runs().forEach(x -> runs.add(x.result()));
        m.put("runs", runs);
        return m;
    }

    static String html(VlSuiteRunner.Result r, Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Vision-language suite</title>")
                .append(HtmlReports.STYLE).append("</head><body><h1>Vision-language suite</h1><p>")
                .append(HtmlReports.escape(settingsLine(r))).append("</p>");
        for (String task : tasks(r)) {
            sb.append("<h2>").append(HtmlReports.escape(task + ": " + metricName(task))).append("</h2>").append(htmlTable(r, task))
                    .append("<p>").append(HtmlReports.escape(verdict(r, task)).replace("\n", "<br>")).append("</p>")
                    .append(HtmlReports.image(chart(r, task), metricName(task) + " by routing"));
            sb.append(examples(r, task, dir));
        }
        return sb.append("</body></html>\n").toString();
    }

    private static String htmlTable(VlSuiteRunner.Result r, String task) {
        List<String> routings = routings(r);
        StringBuilder sb = new StringBuilder("<table><tr><th>method</th>");
        routings.forEach(x -> sb.append("<th>").append(HtmlReports.escape(x)).append("</th>"));
        sb.append("</tr>");
        for (String m : methods(r)) {
            sb.append("<tr><td>").append(HtmlReports.escape(m)).append("</td>");
            for (String routing : routings) {
                sb.append("<td>").append(SuiteResults.percentCell(values(r, task, m, routing, metric(task)))).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table>").toString();
    }

    private static CategoryChart chart(VlSuiteRunner.Result r, String task) {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(400).title(task + ": " + metricName(task))
                .xAxisTitle("routing").yAxisTitle(metricName(task)).build();
        List<String> routings = routings(r);
        int i = 0;
        for (String m : methods(r)) {
            List<Double> ys = new ArrayList<>(); // xchart needs every category in every series: 0 where a cell is missing
            for (String routing : routings) {
                double v = mean(r, task, m, routing);
                ys.add(Double.isNaN(v) ? 0.0 : 100 * v);
            }
            chart.addSeries(m, routings, ys).setFillColor(HtmlReports.PALETTE[i++ % HtmlReports.PALETTE.length]);
        }
        return chart;
    }

    /** Seed 0's examples of every cell side by side: the picture once, then each cell's answer or caption. */
    @SuppressWarnings("unchecked")
    private static String examples(VlSuiteRunner.Result r, String task, Path dir) throws IOException {
        List<VlSuiteRunner.Run> seed0 = r.runs().stream().filter(x -> x.task().equals(task) && x.seed() == 0).toList();
        if (seed0.isEmpty() || !Files.isRegularFile(seed0.get(0).dir().resolve("examples.json"))) {
            return "";
        }
        List<List<Map<String, Object>>> all = new ArrayList<>();
        for (VlSuiteRunner.Run x : seed0) {
            Path f = x.dir().resolve("examples.json");
            all.add(Files.isRegularFile(f) ? Json.MAPPER.readValue(f.toFile(), List.class) : List.of());
        }
        StringBuilder sb = new StringBuilder("<h3>Examples</h3><table><tr><th>image</th><th>")
                .append(task.equals("vqa") ? "question / answers" : "references").append("</th>");
        seed0.forEach(x -> sb.append("<th>").append(HtmlReports.escape(x.cell().label())).append("</th>"));
        sb.append("</tr>");
        int n = Math.min(6, all.get(0).size());
        for (int i = 0; i < n; i++) {
            Map<String, Object> first = all.get(0).get(i);
            Object pic = first.get("picture");
            sb.append("<tr><td>");
            if (pic != null) {
                sb.append("<img style=\"width:84px;image-rendering:pixelated\" src=\"")
                        .append(HtmlReports.escape(dir.relativize(seed0.get(0).dir().resolve(pic.toString())).toString())).append("\">");
            }
            sb.append("</td><td>");
            if (task.equals("vqa")) {
                sb.append(HtmlReports.escape(String.valueOf(first.get("question")))).append("<br><small>")
                        .append(HtmlReports.escape(String.valueOf(first.get("answers")))).append("</small>");
            } else {
                for (Object ref : (List<Object>) first.getOrDefault("references", List.of())) {
                    sb.append(HtmlReports.escape(String.valueOf(ref))).append("<br>");
                }
            }
            sb.append("</td>");
            for (List<Map<String, Object>> ex : all) {
                Object v = i < ex.size() ? ex.get(i).getOrDefault("prediction", ex.get(i).getOrDefault("beam", ex.get(i).get("greedy"))) : "";
                sb.append("<td>").append(HtmlReports.escape(String.valueOf(v))).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table>").toString();
    }
}
