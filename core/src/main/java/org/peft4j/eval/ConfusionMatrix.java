package org.peft4j.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Counts of (actual, predicted) class pairs, with accuracy and per-class recall. */
public final class ConfusionMatrix {
    private static final int MAX_NAME_WIDTH = 24;

    private final List<String> classNames;
    private final long[][] counts; // [actual][predicted]
    private long total;

    public ConfusionMatrix(List<String> classNames) {
        if (classNames.isEmpty()) {
            throw new IllegalArgumentException("ConfusionMatrix needs at least one class");
        }
        if (new HashSet<>(classNames).size() != classNames.size()) {
            throw new IllegalArgumentException("duplicate class names in " + classNames);
        }
        this.classNames = List.copyOf(classNames);
        this.counts = new long[classNames.size()][classNames.size()];
    }

    public List<String> classNames() {
        return classNames;
    }

    public void add(int predicted, int actual) {
        checkClass(predicted, "predicted");
        checkClass(actual, "actual");
        counts[actual][predicted]++;
        total++;
    }

    public void addAll(int[] predicted, int[] actual) {
        if (predicted.length != actual.length) {
            throw new IllegalArgumentException(predicted.length + " predictions for " + actual.length + " labels");
        }
        for (int i = 0; i < predicted.length; i++) {
            add(predicted[i], actual[i]);
        }
    }

    public long count(int actual, int predicted) {
        checkClass(predicted, "predicted");
        checkClass(actual, "actual");
        return counts[actual][predicted];
    }

    public long total() {
        return total;
    }

    /** Fraction correct; NaN when empty. */
    public double accuracy() {
        long correct = 0;
        for (int c = 0; c < counts.length; c++) {
            correct += counts[c][c];
        }
        return total == 0 ? Double.NaN : (double) correct / total;
    }

    /** Recall per actual class; NaN for a class with no examples. */
    public double[] perClassAccuracy() {
        double[] result = new double[counts.length];
        for (int actual = 0; actual < counts.length; actual++) {
            long rowTotal = rowTotal(actual);
            result[actual] = rowTotal == 0 ? Double.NaN : (double) counts[actual][actual] / rowTotal;
        }
        return result;
    }

    /**
     * {"accuracy":..,"n":..,"per_class":{name:acc},"confusion":[[...]]}, rows = actual. NaN becomes null
     * (JSON has no NaN).
     */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("accuracy", jsonNumber(accuracy()));
        json.put("n", total);
        Map<String, Object> perClass = new LinkedHashMap<>();
        double[] recall = perClassAccuracy();
        for (int c = 0; c < classNames.size(); c++) {
            perClass.put(classNames.get(c), jsonNumber(recall[c]));
        }
        json.put("per_class", perClass);
        List<List<Long>> rows = new ArrayList<>();
        for (long[] row : counts) {
            List<Long> cells = new ArrayList<>();
            for (long cell : row) {
                cells.add(cell);
            }
            rows.add(cells);
        }
        json.put("confusion", rows);
        return json;
    }

    /** A fixed-width table: rows = actual class, columns = predicted class index, then recall. */
    public String format() {
        int k = classNames.size();
        int nameWidth = String.valueOf(k - 1).length() + 1;
        int longestName = 0;
        for (String name : classNames) {
            longestName = Math.max(longestName, Math.min(name.length(), MAX_NAME_WIDTH));
        }
        nameWidth += longestName;
        nameWidth = Math.max(nameWidth, "actual\\pred".length());
        long largest = k - 1;
        for (long[] row : counts) {
            for (long cell : row) {
                largest = Math.max(largest, cell);
            }
        }
        int cellWidth = String.valueOf(largest).length() + 1;

        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "n=%d accuracy=%s (rows = actual, columns = predicted)%n", total,
                percent(accuracy())));
        out.append(pad("actual\\pred", nameWidth, false));
        for (int c = 0; c < k; c++) {
            out.append(pad(String.valueOf(c), cellWidth, true));
        }
        out.append(" | ").append(pad("recall", 7, true)).append('\n');
        double[] recall = perClassAccuracy();
        for (int actual = 0; actual < k; actual++) {
            out.append(pad(actual + " " + shorten(classNames.get(actual)), nameWidth, false));
            for (int predicted = 0; predicted < k; predicted++) {
                out.append(pad(String.valueOf(counts[actual][predicted]), cellWidth, true));
            }
            out.append(" | ").append(pad(percent(recall[actual]), 7, true)).append('\n');
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return format();
    }

    private long rowTotal(int actual) {
        long sum = 0;
        for (long cell : counts[actual]) {
            sum += cell;
        }
        return sum;
    }

    private void checkClass(int c, String role) {
        if (c < 0 || c >= classNames.size()) {
            throw new IllegalArgumentException(role + " class " + c + " is outside 0.." + (classNames.size() - 1));
        }
    }

    private static Object jsonNumber(double value) {
        return Double.isNaN(value) ? null : value;
    }

    private static String percent(double fraction) {
        return Double.isNaN(fraction) ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }

    private static String shorten(String name) {
        return name.length() <= MAX_NAME_WIDTH ? name : name.substring(0, MAX_NAME_WIDTH - 1) + "~";
    }

    private static String pad(String text, int width, boolean right) {
        String spaces = " ".repeat(Math.max(0, width - text.length()));
        return right ? spaces + text : text + spaces;
    }
}
