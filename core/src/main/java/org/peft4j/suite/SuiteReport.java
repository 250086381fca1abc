package org.peft4j.suite;

import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.XYSeries;
import org.peft4j.data.suite.SuiteTask;
import org.peft4j.data.suite.TaskGroup;
import org.peft4j.eval.HtmlReports;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.suite.SuiteResults.MethodResult;
import org.peft4j.suite.SuiteResults.TaskResult;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A suite's results as results.md, results.csv, results.json and a self-contained report.html with plots. */
public final class SuiteReport {

    public static final List<String> FILES = List.of("results.md", "results.csv", "results.json", "report.html");
    /** Tableau 10: distinct method colours, the same in every plot (the series order is the methods' order). */
    private static final Color[] PALETTE = HtmlReports.PALETTE;

    private SuiteReport() {}

    /** Writes the four files into {@code dir}, each atomically. */
    public static void write(SuiteResults results, Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(results));
        AtomicFiles.writeString(dir.resolve("results.csv"), csv(results));
        AtomicFiles.writeString(dir.resolve("results.json"), Json.toPythonStyle(json(results)) + "\n");
        AtomicFiles.writeString(dir.resolve("report.html"), html(results));
    }

    /** The columns of the results table, in order (the task columns are the tasks' names). */
    public static List<String> columns(SuiteResults results) {
        List<String> cols = new ArrayList<>(List.of("method", "params", "% of model"));
        results.tasks().forEach(t -> cols.add(t.name()));
        groups(results).forEach(g -> cols.add(g.label()));
        cols.addAll(List.of("mean", "s/run"));
        return cols;
    }

    /** One row of cells per method, matching {@link #columns}. */
    public static List<List<String>> rows(SuiteResults results) {
        List<List<String>> rows = new ArrayList<>();
        for (MethodResult m : results.methods()) {
            List<String> row = new ArrayList<>();
            row.add(m.label());
            row.add(String.format(Locale.ROOT, "%,.0f", m.meanTrainableParams()));
            row.add(String.format(Locale.ROOT, "%.2f", m.meanTrainablePercent()));
            for (TaskResult t : m.tasks()) {
                row.add(t.seeds().size() > 1
                        ? String.format(Locale.ROOT, "%.1f ± %.1f", 100 * t.mean(), 100 * t.std())
                        : String.format(Locale.ROOT, "%.1f", 100 * t.mean()));
            }
            Map<TaskGroup, Double> groupMeans = m.groupMeans();
            groups(results).forEach(g -> row.add(String.format(Locale.ROOT, "%.1f", 100 * groupMeans.get(g))));
            row.add(String.format(Locale.ROOT, "%.1f", 100 * m.overall()));
            row.add(String.format(Locale.ROOT, "%.1f", m.secondsPerRun()));
            rows.add(row);
        }
        return rows;
    }

    /** The results table in markdown. */
    public static String markdownTable(SuiteResults results) {
        List<String> cols = columns(results);
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", cols)).append(" |\n|");
        for (int i = 0; i < cols.size(); i++) {
            sb.append(i == 0 ? "---|" : "---:|");
        }
        sb.append('\n');
        for (List<String> row : rows(results)) {
            sb.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return sb.toString();
    }

    public static String markdown(SuiteResults results) {
        return "# peft4j suite (VTAB-1k protocol)\n\n"
                + "- " + backboneLine(results) + "\n"
                + "- " + protocolLine(results) + "\n\n"
                + markdownTable(results) + "\n" + LEGEND + "\n";
    }

    private static final String LEGEND = "Top-1 test accuracy in %, mean ± sample standard deviation over seeds. "
            + "Group columns: mean of the group's task means; mean: mean of the group means, as VTAB reports it. "
            + "params: trainable parameters, averaged over the tasks (the new head's size follows the class count); "
            + "% of model: their share of all parameters. s/run: seconds per final training run (test included).";

    /** One row per method × task: the chosen rate, mean, std, each seed, parameters and time. */
    public static String csv(SuiteResults results) {
        int seeds = results.methods().stream().flatMap(m -> m.tasks().stream())
                .mapToInt(t -> t.seeds().size()).max().orElse(0);
        StringBuilder sb = new StringBuilder("method,task,group,learning_rate,mean,std");
        for (int s = 0; s < seeds; s++) {
            sb.append(",seed_").append(s);
        }
        sb.append(",trainable_params,trainable_percent,seconds_per_run,images_per_s\n");
        for (MethodResult m : results.methods()) {
            for (TaskResult t : m.tasks()) {
                sb.append(csvField(m.label())).append(',').append(t.task().name()).append(',')
                        .append(t.task().group().label()).append(',').append(Json.toPythonStyle(t.learningRate()))
                        .append(String.format(Locale.ROOT, ",%.6f,%.6f", t.mean(), t.std()));
                for (int s = 0; s < seeds; s++) {
                    sb.append(',').append(s < t.seeds().size()
                            ? String.format(Locale.ROOT, "%.6f", t.seeds().get(s).accuracy()) : "");
                }
                sb.append(String.format(Locale.ROOT, ",%d,%.4f,%.2f,%.1f%n", t.trainableParams(),
                        t.trainablePercent(), t.secondsPerRun(), t.imagesPerSecond()));
            }
        }
        return sb.toString();
    }

    /** Everything: settings, backbone, tasks, and per method every run, the chosen rates and the means. */
    public static Map<String, Object> json(SuiteResults results) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("settings", results.settings());
        out.put("backbone", results.backbone());
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (SuiteTask t : results.tasks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("group", t.group().label());
            m.put("description", t.description());
            m.put("classes", t.classes());
            tasks.add(m);
        }
        out.put("tasks", tasks);
        List<Map<String, Object>> methods = new ArrayList<>();
        for (MethodResult m : results.methods()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", m.label());
            row.put("trainable_params_mean", m.meanTrainableParams());
            row.put("trainable_percent_mean", m.meanTrainablePercent());
            Map<String, Object> groupMeans = new LinkedHashMap<>();
            m.groupMeans().forEach((g, v) -> groupMeans.put(g.label(), v));
            row.put("group_means", groupMeans);
            row.put("mean", m.overall());
            row.put("seconds_per_run", m.secondsPerRun());
            row.put("total_seconds", m.totalSeconds());
            Map<String, Object> perTask = new LinkedHashMap<>();
            for (TaskResult t : m.tasks()) {
                Map<String, Object> cell = new LinkedHashMap<>();
                cell.put("learning_rate", t.learningRate());
                cell.put("mean", t.mean());
                cell.put("std", t.std());
                cell.put("tuning", t.tuning().stream().map(RunRecord::toJson).toList());
                cell.put("seeds", t.seeds().stream().map(RunRecord::toJson).toList());
                perTask.put(t.task().name(), cell);
            }
            row.put("tasks", perTask);
            methods.add(row);
        }
        out.put("methods", methods);
        return out;
    }

    /** One HTML page: the table, the chosen learning rates, and three plots embedded as PNG data URIs. */
    public static String html(SuiteResults results) throws IOException {
        System.setProperty("java.awt.headless", "true");
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>peft4j suite</title>\n")
                .append(HtmlReports.STYLE)
                .append("</head><body>\n<h1>peft4j suite (VTAB-1k protocol)</h1>\n")
                .append("<p>").append(escape(backboneLine(results))).append("<br>")
                .append(escape(protocolLine(results))).append("</p>\n");
        sb.append(htmlTable(results));
        sb.append("<p class=\"note\">").append(escape(LEGEND)).append("</p>\n");
        sb.append(image(accuracyVsParams(results), "mean accuracy against trainable parameters"));
        sb.append(image(perTask(results), "accuracy per task"));
        sb.append(image(perGroup(results), "accuracy per group"));
        sb.append("<h2>Learning rate chosen on val</h2>\n").append(rateTable(results));
        sb.append("</body></html>\n");
        return sb.toString();
    }

    private static String htmlTable(SuiteResults results) {
        List<String> cols = columns(results);
        int firstGroup = 3 + results.tasks().size();
        int meanCol = cols.indexOf("mean");
        StringBuilder sb = new StringBuilder("<table>\n<tr>");
        cols.forEach(c -> sb.append("<th>").append(escape(c)).append("</th>"));
        sb.append("</tr>\n");
        for (List<String> row : rows(results)) {
            sb.append("<tr>");
            for (int i = 0; i < row.size(); i++) {
                String cls = i == meanCol ? " class=\"mean\"" : i >= firstGroup && i < meanCol ? " class=\"group\"" : "";
                sb.append("<td").append(cls).append('>').append(escape(row.get(i))).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String rateTable(SuiteResults results) {
        StringBuilder sb = new StringBuilder("<table>\n<tr><th>method</th>");
        results.tasks().forEach(t -> sb.append("<th>").append(escape(t.name())).append("</th>"));
        sb.append("</tr>\n");
        for (MethodResult m : results.methods()) {
            sb.append("<tr><td>").append(escape(m.label())).append("</td>");
            for (TaskResult t : m.tasks()) {
                StringBuilder title = new StringBuilder();
                t.tuning().forEach(r -> title.append(String.format(Locale.ROOT, "lr %s: val %.1f%%  ",
                        Json.toPythonStyle(r.learningRate()), 100 * r.accuracy())));
                sb.append("<td title=\"").append(escape(title.toString().strip())).append("\">")
                        .append(Json.toPythonStyle(t.learningRate())).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    /** Mean of the group means against the (mean) trainable parameter count, log x, one labelled point per method. */
    static XYChart accuracyVsParams(SuiteResults results) {
        XYChart chart = new XYChartBuilder().width(900).height(520)
                .title("Accuracy (mean of the group means) vs trainable parameters")
                .xAxisTitle("trainable parameters (log scale)").yAxisTitle("accuracy (%)").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(12);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setSeriesColors(PALETTE);
        chart.getStyler().setAnnotationTextFontColor(Color.DARK_GRAY);
        double min = Double.MAX_VALUE;
        double max = 0;
        double yRange = results.methods().stream().mapToDouble(m -> 100 * m.overall()).max().orElse(0)
                - results.methods().stream().mapToDouble(m -> 100 * m.overall()).min().orElse(0);
        for (int i = 0; i < results.methods().size(); i++) {
            MethodResult m = results.methods().get(i);
            double x = m.meanTrainableParams();
            double y = 100 * m.overall();
            XYSeries s = chart.addSeries(m.label(), new double[] {x}, new double[] {y});
            s.setMarker(SeriesMarkers.CIRCLE);
            // Labels alternate above and below their points, so neighbours overlap less.
            double offset = Math.max(yRange, 5) * 0.04;
            chart.addAnnotation(new AnnotationText(m.label(), x, i % 2 == 0 ? y + offset : y - offset, false));
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        // Room on both sides, so the labels of the end points stay inside the plot.
        chart.getStyler().setXAxisMin(min / 3);
        chart.getStyler().setXAxisMax(max * 3);
        return chart;
    }

    static CategoryChart perTask(SuiteResults results) {
        CategoryChart chart = new CategoryChartBuilder().width(1200).height(520)
                .title("Test accuracy per task (mean over seeds; bars: ± std)").yAxisTitle("accuracy (%)").build();
        styleBars(chart);
        chart.getStyler().setXAxisLabelRotation(20); // long task names would overlap
        List<String> tasks = results.tasks().stream().map(SuiteTask::name).toList();
        boolean spread = results.methods().stream().flatMap(m -> m.tasks().stream()).anyMatch(t -> t.seeds().size() > 1);
        for (MethodResult m : results.methods()) {
            List<Double> means = m.tasks().stream().map(t -> 100 * t.mean()).toList();
            if (spread) {
                chart.addSeries(m.label(), tasks, means, m.tasks().stream().map(t -> 100 * t.std()).toList());
            } else {
                chart.addSeries(m.label(), tasks, means);
            }
        }
        return chart;
    }

    static CategoryChart perGroup(SuiteResults results) {
        CategoryChart chart = new CategoryChartBuilder().width(900).height(480)
                .title("Accuracy per task group (mean of the group's tasks) and overall")
                .yAxisTitle("accuracy (%)").build();
        styleBars(chart);
        List<String> categories = new ArrayList<>(groups(results).stream().map(TaskGroup::label).toList());
        categories.add("mean");
        for (MethodResult m : results.methods()) {
            List<Double> values = new ArrayList<>(groups(results).stream().map(g -> 100 * m.groupMeans().get(g)).toList());
            values.add(100 * m.overall());
            chart.addSeries(m.label(), categories, values);
        }
        return chart;
    }

    private static void styleBars(CategoryChart chart) {
        chart.getStyler().setSeriesColors(PALETTE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(100.0);
        chart.getStyler().setErrorBarsColor(Color.DARK_GRAY);
        chart.getStyler().setAvailableSpaceFill(0.85);
    }

    private static String image(Chart<?, ?> chart, String alt) throws IOException {
        return HtmlReports.image(chart, alt);
    }

    /** The task groups present, in VTAB's order. */
    private static List<TaskGroup> groups(SuiteResults results) {
        return List.of(TaskGroup.values()).stream()
                .filter(g -> results.tasks().stream().anyMatch(t -> t.group() == g)).toList();
    }

    private static String backboneLine(SuiteResults results) {
        Map<String, Object> b = results.backbone();
        Object probe = b.get("linear_probe");
        String probeText = probe instanceof Map<?, ?> p
                ? String.format(Locale.ROOT, "%.4f", ((Number) p.get("accuracy")).doubleValue()) : String.valueOf(probe);
        return "Backbone: " + b.get("name") + " (" + b.get("path") + "); linear-probe accuracy on its source task: "
                + probeText;
    }

    @SuppressWarnings("unchecked")
    private static String protocolLine(SuiteResults results) {
        Map<String, Object> p = (Map<String, Object>) results.settings().get("protocol");
        int seeds = results.methods().get(0).tasks().get(0).seeds().size();
        List<String> rates = new ArrayList<>();
        ((Map<String, List<Double>>) p.get("learning_rates")).forEach((family, grid) -> rates.add(
                family + " " + String.join("/", grid.stream().map(Json::toPythonStyle).toList())));
        return String.format(Locale.ROOT, "Profile %s: %s train / %s val / %s test images, %s epochs, batch %s, "
                        + "learning rate %s %s, %d seed%s", p.get("profile"), p.get("train"), p.get("val"),
                p.get("test"), p.get("epochs"), p.get("batch_size"),
                Boolean.TRUE.equals(p.get("tune")) ? "tuned on val over" : "fixed at", String.join(", ", rates), seeds,
                seeds == 1 ? "" : "s");
    }

    private static String csvField(String s) {
        return HtmlReports.csvField(s);
    }

    private static String escape(String s) {
        return HtmlReports.escape(s);
    }
}
