package org.peft4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * VQAv2 accuracy (Antol et al. 2015, as the official {@code vqaEval.py} computes it): an answer is
 * right for a subset of humans when at least 3 of them gave it, and the score averages that over the n
 * subsets that leave one human out, so that it is comparable with a human's own score:
 * {@code acc = mean_i min(1, #matches among answers without i / 3)}. With 10 answers, m matches give
 * 0, 0.3, 0.6, 0.9 and then 1.0 for m = 0..4 (three matches are 0.9, not 1.0: the subsets leaving out one
 * of the three hold only two). The same formula serves any n ≥ 2; with a single answer there is no
 * subset left, so an exact match scores 1.
 *
 * <p>An instance accumulates scores over a data set, overall and per group (question type, say).
 */
public final class VqaAccuracy {

    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    /** The official script's number map, "none" included (a "how many" answer of none is 0). */
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
            Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
    /** The official script's punctuation; apostrophes and colons stay ("man's", "10:30"). */
    private static final String PUNCTUATION = ";/[]\"{}()=+\\_-><@`,?!";

    private double sum;
    private long count;
    private final Map<String, double[]> groups = new LinkedHashMap<>();

    /**
     * The official normalisation, simplified: lowercase and trim; a comma between digits goes ("1,000"
     * is 1000), the other punctuation above becomes a space ("t-shirt" is "t shirt"); a period goes
     * unless a digit follows ("3.5" stays); then per word, number words zero..ten (and none) become
     * digits and the articles a, an, the are dropped; words are joined by single spaces. Left out of
     * the official script: its contraction table ("dont" → "don't") and its rule of deleting rather
     * than spacing a punctuation mark that already touches a space (the same after whitespace is
     * collapsed, except for oddities like "t-shirt - blue"). Unlike the script, which normalises only
     * when the humans disagree, this always normalises, both the prediction and the answers.
     */
    public static String normalize(String answer) {
        String s = answer.toLowerCase(Locale.ROOT).strip();
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            boolean digitBefore = i > 0 && Character.isDigit(s.charAt(i - 1));
            boolean digitAfter = i + 1 < s.length() && Character.isDigit(s.charAt(i + 1));
            if (ch == ',' && digitBefore && digitAfter) {
                continue;
            }
            if (ch == '.' && !digitAfter) {
                continue;
            }
            b.append(PUNCTUATION.indexOf(ch) >= 0 ? ' ' : ch);
        }
        List<String> words = new ArrayList<>();
        for (String w : b.toString().split("\\s+")) {
            String word = NUMBERS.getOrDefault(w, w);
            if (!word.isEmpty() && !ARTICLES.contains(word)) {
                words.add(word);
            }
        }
        return String.join(" ", words);
    }

    /** Accuracy of one prediction against the human answers (normalised, see {@link #normalize}). */
    public static double score(String prediction, List<String> answers) {
        int n = answers.size();
        if (n == 0) {
            throw new IllegalArgumentException("VQA accuracy needs at least one human answer");
        }
        String p = normalize(prediction);
        int matches = 0;
        for (String a : answers) {
            if (normalize(a).equals(p)) {
                matches++;
            }
        }
        if (n == 1) {
            return matches;
        }
        // Leaving out one of the m matching answers leaves m - 1 matches; leaving out any other leaves m.
        double withoutMatch = Math.min(1.0, (matches - 1) / 3.0);
        double withoutOther = Math.min(1.0, matches / 3.0);
        return (matches * Math.max(0.0, withoutMatch) + (n - matches) * withoutOther) / n;
    }

    /**
     * Soft training targets over the answer vocabulary, min(1, count(a) / 3) for each normalised
     * answer a (the usual VQAv2 target for a sigmoid/BCE head). The vocabulary's keys are expected
     * normalised (built with {@link #normalize}); answers outside it are ignored.
     */
    public static float[] softTargets(List<String> answers, Map<String, Integer> answerIndex) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (String a : answers) {
            Integer index = answerIndex.get(normalize(a));
            if (index != null) {
                counts.merge(index, 1, Integer::sum);
            }
        }
        float[] targets = new float[answerIndex.size()];
        counts.forEach((index, c) -> targets[index] = (float) Math.min(1.0, c / 3.0));
        return targets;
    }

    /** Scores one question, counts it in the overall mean, and returns its accuracy. */
    public double add(String prediction, List<String> answers) {
        double acc = score(prediction, answers);
        sum += acc;
        count++;
        return acc;
    }

    /** As {@link #add(String, List)}, and also counts it in the mean of {@code group}. */
    public double add(String prediction, List<String> answers, String group) {
        double acc = add(prediction, answers);
        double[] g = groups.computeIfAbsent(group, k -> new double[2]);
        g[0] += acc;
        g[1]++;
        return acc;
    }

    /** Mean accuracy over all questions added; NaN when none was. */
    public double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    public long count() {
        return count;
    }

    /** Group → mean accuracy, in the order the groups first appeared. */
    public Map<String, Double> groupMeans() {
        Map<String, Double> out = new LinkedHashMap<>();
        groups.forEach((k, g) -> out.put(k, g[0] / g[1]));
        return out;
    }
}
