package org.peft4j.demo;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.train.FineTuning;
import org.peft4j.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The demo's results as a text table, JSON, CSV and two PNG charts. */
public final class DemoReport {

    private DemoReport() {}

    public static String table(List<FineTuning.Outcome> outcomes) {
        StringBuilder sb = new StringBuilder();
        String format = "%-8s %12s %18s %13s %10s %10s%n";
        sb.append(String.format(Locale.ROOT, format, "method", "test acc", "trainable params", "trainable %",
                "time (s)", "images/s"));
        sb.append("-".repeat(76)).append('\n');
        for (FineTuning.Outcome o : outcomes) {
            sb.append(String.format(Locale.ROOT, format, o.method(),
                    String.format(Locale.ROOT, "%.4f", o.testAccuracy()),
                    String.format(Locale.ROOT, "%,d", o.trainableParams()),
                    String.format(Locale.ROOT, "%.2f%%", o.trainablePercent()),
                    String.format(Locale.ROOT, "%.1f", o.seconds()),
                    String.format(Locale.ROOT, "%.0f", o.imagesPerSecond())));
        }
        return sb.toString();
    }

    /** results.json, results.csv, curves.png (validation accuracy per epoch) and summary.png. */
    public static void write(FashionMnistDemo.Report report, Path dir) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("backbone", report.backbone());
        List<Map<String, Object>> rows = new ArrayList<>();
        StringBuilder csv = new StringBuilder("method,test_accuracy,best_val_accuracy,trainable_params,all_params,"
                + "trainable_percent,seconds,images_per_s\n");
        for (FineTuning.Outcome o : report.outcomes()) {
            Map<String, Object> row = o.toJson();
            row.put("val_accuracy_per_epoch", o.training().epochs().stream().map(Trainer.EpochResult::valAccuracy).toList());
            rows.add(row);
            csv.append(String.format(Locale.ROOT, "%s,%.6f,%.6f,%d,%d,%.4f,%.2f,%.1f%n", o.method(),
                    o.testAccuracy(), o.bestValAccuracy(), o.trainableParams(), o.allParams(),
                    o.trainablePercent(), o.seconds(), o.imagesPerSecond()));
        }
        json.put("results", rows);
        AtomicFiles.writeString(dir.resolve("results.json"), Json.toPythonStyle(json) + "\n");
        AtomicFiles.writeString(dir.resolve("results.csv"), csv.toString());
        System.setProperty("java.awt.headless", "true");
        writeCurves(report.outcomes(), dir.resolve("curves.png"));
        writeSummary(report.outcomes(), dir.resolve("summary.png"));
    }

    private static void writeCurves(List<FineTuning.Outcome> outcomes, Path file) throws IOException {
        XYChart chart = new XYChartBuilder().width(720).height(440)
                .title("Validation accuracy while fine-tuning").xAxisTitle("epoch").yAxisTitle("accuracy").build();
        for (FineTuning.Outcome o : outcomes) {
            List<Trainer.EpochResult> epochs = o.training().epochs();
            chart.addSeries(String.format(Locale.ROOT, "%s (%.2f%% trainable)", o.method(), o.trainablePercent()),
                    epochs.stream().map(e -> (double) e.epoch()).toList(),
                    epochs.stream().map(Trainer.EpochResult::valAccuracy).toList());
        }
        save(chart, file);
    }

    private static void writeSummary(List<FineTuning.Outcome> outcomes, Path file) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(720).height(440)
                .title("Test accuracy by method (label: trainable share of parameters)")
                .xAxisTitle("method").yAxisTitle("test accuracy").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.addSeries("test accuracy",
                outcomes.stream().map(o -> String.format(Locale.ROOT, "%s (%.2f%%)", o.method(), o.trainablePercent())).toList(),
                outcomes.stream().map(FineTuning.Outcome::testAccuracy).toList());
        save(chart, file);
    }

    private static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path file) throws IOException {
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
