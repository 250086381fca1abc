package org.peft4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Corpus-level BLEU-1..4 and CIDEr-D as the COCO caption evaluation (pycocoevalcap) computes them,
 * so that numbers can be set beside published ones. One candidate per image, any number of references.
 */
public final class CaptionMetrics {

    private static final int N = 4;
    private static final double SIGMA = 6.0;
    // pycocoevalcap's guards against empty counts, kept because they change the score: a BLEU order with
    // no candidate n-gram at all (every caption shorter than n) contributes (0 + TINY) / (0 + SMALL) = 1e-6.
    private static final double TINY = 1e-15;
    private static final double SMALL = 1e-9;

    private CaptionMetrics() {
    }

    /** BLEU-1..4 ({@code bleu[n - 1]}), the corpus CIDEr-D (mean over images) and each image's CIDEr-D. */
    public record Scores(double[] bleu, double cider, double[] perImageCider) {
        public Scores {
            bleu = bleu.clone();
            perImageCider = perImageCider.clone();
        }

        @Override
        public double[] bleu() {
            return bleu.clone();
        }

        @Override
        public double[] perImageCider() {
            return perImageCider.clone();
        }

        /** bleu1..bleu4, cider, perImageCider (a list), for a JSON report. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            for (int n = 0; n < bleu.length; n++) {
                m.put("bleu" + (n + 1), bleu[n]);
            }
            m.put("cider", cider);
            List<Double> perImage = new ArrayList<>(perImageCider.length);
            for (double v : perImageCider) {
                perImage.add(v);
            }
            m.put("perImageCider", perImage);
            return m;
        }
    }

    /**
     * Lowercase, split on whitespace, strip ASCII punctuation from both ends of each token and drop
     * tokens left empty. This stands in for pycocoevalcap's PTB tokenizer followed by its removal of
     * punctuation tokens; it differs on clitics ("dog's" stays one token, PTB makes "dog" "'s").
     */
    public static List<String> tokenize(String caption) {
        List<String> tokens = new ArrayList<>();
        for (String t : caption.toLowerCase(Locale.ROOT).split("\\s+")) {
            int start = 0;
            int end = t.length();
            while (start < end && isPunctuation(t.charAt(start))) {
                start++;
            }
            while (end > start && isPunctuation(t.charAt(end - 1))) {
                end--;
            }
            if (start < end) {
                tokens.add(t.substring(start, end));
            }
        }
        return tokens;
    }

    private static boolean isPunctuation(char c) {
        return c < 128 && !Character.isLetterOrDigit(c) && !Character.isWhitespace(c);
    }

    /** Scores {@code candidates.get(i)} against {@code references.get(i)} for every image i. */
    public static Scores score(List<String> candidates, List<List<String>> references) {
        if (candidates.isEmpty() || candidates.size() != references.size()) {
            throw new IllegalArgumentException("caption metrics: " + candidates.size() + " candidates for "
                    + references.size() + " reference sets");
        }
        List<Caption> hyps = new ArrayList<>();
        List<List<Caption>> refs = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            if (references.get(i).isEmpty()) {
                throw new IllegalArgumentException("caption metrics: image " + i + " has no reference");
            }
            hyps.add(new Caption(tokenize(candidates.get(i))));
            List<Caption> r = new ArrayList<>();
            for (String s : references.get(i)) {
                r.add(new Caption(tokenize(s)));
            }
            refs.add(r);
        }
        double[] perImage = cider(hyps, refs);
        double mean = 0;
        for (double v : perImage) {
            mean += v;
        }
        return new Scores(bleu(hyps, refs), mean / perImage.length, perImage);
    }

    /**
     * Papineni et al.'s corpus BLEU: clipped n-gram matches (clipped at the largest count in any one
     * reference) and n-gram counts are summed over the corpus before dividing; the reference length per
     * image is the one closest to the candidate's (ties: the shorter), and the brevity penalty
     * exp(1 - r/c) applies when the summed c falls short of the summed r.
     */
    static double[] bleu(List<Caption> hyps, List<List<Caption>> refs) {
        long[] correct = new long[N];
        long[] guess = new long[N];
        long testLength = 0;
        long refLength = 0;
        for (int i = 0; i < hyps.size(); i++) {
            Caption hyp = hyps.get(i);
            int c = hyp.words.size();
            int closest = -1;
            List<Map<String, Integer>> maxCounts = new ArrayList<>();
            for (int n = 0; n < N; n++) {
                maxCounts.add(new HashMap<>());
            }
            for (Caption ref : refs.get(i)) {
                int r = ref.words.size();
                if (closest < 0 || Math.abs(r - c) < Math.abs(closest - c)
                        || (Math.abs(r - c) == Math.abs(closest - c) && r < closest)) {
                    closest = r;
                }
                for (int n = 0; n < N; n++) {
                    Map<String, Integer> max = maxCounts.get(n);
                    ref.counts.get(n).forEach((g, k) -> max.merge(g, k, Math::max));
                }
            }
            testLength += c;
            refLength += closest;
            for (int n = 0; n < N; n++) {
                guess[n] += Math.max(0, c - n);
                Map<String, Integer> max = maxCounts.get(n);
                for (Map.Entry<String, Integer> e : hyp.counts.get(n).entrySet()) {
                    correct[n] += Math.min(e.getValue(), max.getOrDefault(e.getKey(), 0));
                }
            }
        }
        double ratio = (testLength + TINY) / (refLength + SMALL);
        double brevity = ratio < 1 ? Math.exp(1 - 1 / ratio) : 1;
        double[] bleu = new double[N];
        double product = 1;
        for (int n = 0; n < N; n++) {
            product *= (correct[n] + TINY) / (guess[n] + SMALL);
            bleu[n] = Math.pow(product, 1.0 / (n + 1)) * brevity;
        }
        return bleu;
    }

    /**
     * CIDEr-D (Vedantam et al. 2015, pycocoevalcap's {@code Cider}): per n-gram order, tf-idf vectors
     * with tf = raw count and idf = log(#images) - log(max(1, df)), df counting the images whose
     * references hold the n-gram (so it is a property of the evaluated corpus: a single image scores 0);
     * the similarity to a reference is Σ min(h, r)·r / (|h|·|r|), the min keeping a candidate from
     * gaining by repeating n-grams, damped by exp(-(len_h - len_r)² / 2σ²), σ = 6, against long
     * candidates. Orders 1..4 are averaged, references averaged, and the result is scaled by 10.
     * pycocoevalcap measures the length in bigrams, not words; the difference is the same unless a
     * caption is empty, and then the similarity is 0 anyway.
     */
    static double[] cider(List<Caption> hyps, List<List<Caption>> refs) {
        Map<String, Integer> df = new HashMap<>();
        for (List<Caption> imageRefs : refs) {
            Set<String> seen = new HashSet<>();
            for (Caption ref : imageRefs) {
                for (Map<String, Integer> order : ref.counts) {
                    seen.addAll(order.keySet());
                }
            }
            seen.forEach(g -> df.merge(g, 1, Integer::sum));
        }
        double logImages = Math.log(hyps.size());
        double[] scores = new double[hyps.size()];
        for (int i = 0; i < hyps.size(); i++) {
            TfIdf h = new TfIdf(hyps.get(i), df, logImages);
            double sum = 0;
            for (Caption ref : refs.get(i)) {
                TfIdf r = new TfIdf(ref, df, logImages);
                double delta = h.length - r.length;
                double penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
                for (int n = 0; n < N; n++) {
                    if (h.norm[n] == 0 || r.norm[n] == 0) {
                        continue;
                    }
                    double dot = 0;
                    for (Map.Entry<String, Double> e : h.vec.get(n).entrySet()) {
                        double rv = r.vec.get(n).getOrDefault(e.getKey(), 0.0);
                        dot += Math.min(e.getValue(), rv) * rv;
                    }
                    sum += dot / (h.norm[n] * r.norm[n]) * penalty;
                }
            }
            scores[i] = sum / N / refs.get(i).size() * 10;
        }
        return scores;
    }

    /** A tokenised caption and its n-gram counts per order (n-grams as words joined by a space). */
    static final class Caption {
        final List<String> words;
        final List<Map<String, Integer>> counts = new ArrayList<>();

        Caption(List<String> words) {
            this.words = words;
            for (int n = 1; n <= N; n++) {
                Map<String, Integer> c = new HashMap<>();
                for (int i = 0; i + n <= words.size(); i++) {
                    c.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
                }
                counts.add(c);
            }
        }
    }

    private static final class TfIdf {
        final List<Map<String, Double>> vec = new ArrayList<>();
        final double[] norm = new double[N];
        final int length;

        TfIdf(Caption caption, Map<String, Integer> df, double logImages) {
            length = caption.words.size();
            for (int n = 0; n < N; n++) {
                Map<String, Double> v = new HashMap<>();
                double squares = 0;
                for (Map.Entry<String, Integer> e : caption.counts.get(n).entrySet()) {
                    double idf = logImages - Math.log(Math.max(1, df.getOrDefault(e.getKey(), 0)));
                    double w = e.getValue() * idf;
                    v.put(e.getKey(), w);
                    squares += w * w;
                }
                vec.add(v);
                norm[n] = Math.sqrt(squares);
            }
        }
    }
}
