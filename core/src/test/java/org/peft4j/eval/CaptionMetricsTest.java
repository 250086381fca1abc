package org.peft4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** BLEU and CIDEr-D on captions small enough to score by hand; the values agree with pycocoevalcap. */
class CaptionMetricsTest {

    private static final double EPS = 1e-9;

    @Test
    void tokenizeLowercasesAndStripsPunctuation() {
        assertEquals(List.of("a", "dog's", "t-shirt", "is", "red"),
                CaptionMetrics.tokenize("  A dog's T-shirt , is RED.\n"));
    }

    @Test
    void bleuCountsEachOrder() {
        // candidate "the cat sat on the mat" (6), reference "the cat is on the mat" (6)
        // 1-grams: the×2 (clipped at the reference's 2), cat, on, mat match, sat does not: 5/6
        // 2-grams: the cat, on the, the mat of 5: 3/5; 3-grams: on the mat of 4: 1/4; 4-grams: 0/3
        // BLEU-2 = sqrt(5/6 · 3/5) = sqrt(1/2); BLEU-3 = (5/6 · 3/5 · 1/4)^(1/3) = (1/8)^(1/3) = 1/2
        // BLEU-4 keeps pycocoevalcap's smoothing: (1/8 · 1e-15 / (3 + 1e-9))^(1/4) = 8.0343e-5, not 0
        double[] bleu = score("the cat sat on the mat", List.of("the cat is on the mat")).bleu();
        assertEquals(5.0 / 6, bleu[0], EPS);
        assertEquals(Math.sqrt(0.5), bleu[1], EPS);
        assertEquals(0.5, bleu[2], EPS);
        assertEquals(Math.pow(1.0 / 8 * 1e-15 / 3, 0.25), bleu[3], 1e-12);
    }

    @Test
    void clippingUsesTheLargestCountInOneReference() {
        // "the" once in each reference: clipped to max(1, 1) = 1 of 3, not the sum 2 of 3; lengths 3 = 3
        double[] bleu = score("the the the", List.of("the cat sat", "the dog ran")).bleu();
        assertEquals(1.0 / 3, bleu[0], EPS);
    }

    @Test
    void brevityPenaltyWhenTheCandidateIsShort() {
        // c = 2, r = 6: BP = exp(1 - 6/2) = exp(-2); 1- and 2-grams all match.
        // No 3- or 4-grams in the candidate: those precisions are (0 + 1e-15) / (0 + 1e-9) = 1e-6, so
        // BLEU-3 = (1e-6)^(1/3) · BP = 0.01 · exp(-2) and BLEU-4 = (1e-12)^(1/4) · BP = 0.001 · exp(-2)
        double[] bleu = score("a cat", List.of("a cat sat on the mat")).bleu();
        double bp = Math.exp(-2);
        assertEquals(bp, bleu[0], EPS);
        assertEquals(bp, bleu[1], EPS);
        assertEquals(0.01 * bp, bleu[2], EPS);
        assertEquals(0.001 * bp, bleu[3], EPS);
    }

    @Test
    void closestReferenceLengthTiesGoToTheShorter() {
        // c = 3 is 1 away from both 2 and 4; r = 2 gives BP = 1 (with r = 4 it would be exp(1 - 4/3) = 0.72)
        double[] bleu = score("a cat sat", List.of("a cat", "a cat sat down")).bleu();
        assertEquals(1.0, bleu[0], EPS);
        assertEquals(1.0, bleu[2], EPS);
    }

    @Test
    void bleuSumsCountsOverTheCorpus() {
        // image 1 as in bleuCountsEachOrder (1-grams 5/6, 2-grams 3/5, c = r = 6);
        // image 2 "a dog" against "a dog runs" (1-grams 2/2, 2-grams 1/1, c = 2, r = 3)
        // BLEU-1 = 7/8 · exp(1 - 9/8); BLEU-2 = sqrt(7/8 · 4/6) · exp(-1/8). A mean of per-image scores
        // would give something else (image 2 alone has BLEU-1 = exp(-1/2)).
        double[] bleu = CaptionMetrics.score(List.of("the cat sat on the mat", "a dog"),
                List.of(List.of("the cat is on the mat"), List.of("a dog runs"))).bleu();
        assertEquals(7.0 / 8 * Math.exp(-1.0 / 8), bleu[0], EPS);
        assertEquals(Math.sqrt(7.0 / 12) * Math.exp(-1.0 / 8), bleu[1], EPS);
    }

    @Test
    void ciderOfASingleImageIsZero() {
        // idf = log(1 image) - log(df = 1) = 0 for every reference n-gram
        assertEquals(0.0, score("a cat", List.of("a cat")).cider(), 0.0);
    }

    @Test
    void ciderOfExactTwoWordCaptions() {
        // l = log 2 images. df: "a" 2 (idf 0), "cat", "dog", "a cat", "a dog" 1 (idf l).
        // image 1: 1-grams {a: 0, cat: l} against the same: l²/(l·l) = 1; 2-grams likewise 1;
        // no 3- or 4-grams: 0. Mean over orders 2/4, times 10: 5 (and image 2 the same).
        CaptionMetrics.Scores s = CaptionMetrics.score(List.of("a cat", "a dog"),
                List.of(List.of("a cat"), List.of("a dog")));
        assertArrayEquals(new double[] {5.0, 5.0}, s.perImageCider(), EPS);
        assertEquals(5.0, s.cider(), EPS);
    }

    @Test
    void ciderClipsRepeatsAndPenalisesLength() {
        // l = log 2; references "a cat" / "a dog" as above.
        // image 1 "cat cat": 1-grams {cat: 2l}, |h| = 2l; reference {a: 0, cat: l}, |r| = l.
        //   min(2l, l)·l / (2l·l) = 1/2 (without the clipping: 2l·l / 2l² = 1).
        //   2-gram "cat cat" is not in the reference: 0. Same length: no penalty. (1/2)/4 · 10 = 1.25
        // image 2 "a dog dog" (3 words against 2): penalty exp(-1/72)
        //   1-grams {a: 0, dog: 2l}: min(2l, l)·l / (2l·l) = 1/2
        //   2-grams {"a dog": l, "dog dog": l (df 0, so idf = l)}, |h| = √2·l: l² / (√2·l·l) = 1/√2
        //   3-gram: the reference has none: 0. (1/2 + 1/√2) · exp(-1/72) / 4 · 10 = 2.976143
        CaptionMetrics.Scores s = CaptionMetrics.score(List.of("cat cat", "a dog dog"),
                List.of(List.of("a cat"), List.of("a dog")));
        double image2 = (0.5 + 1 / Math.sqrt(2)) * Math.exp(-1.0 / 72) / 4 * 10;
        assertArrayEquals(new double[] {1.25, image2}, s.perImageCider(), EPS);
        assertEquals((1.25 + image2) / 2, s.cider(), EPS);
    }

    @Test
    void documentFrequencyCountsImagesNotReferences() {
        // image 1 refs "a cat", "the cat"; image 2 ref "a dog". df(cat) = 1 (one image, two references):
        // idf(cat) = l = log 2, idf(a) = 0, idf(the) = l.
        // candidate "cat" (1 word against 2: penalty exp(-1/72) for both references), 1-grams only:
        //   vs "a cat" {a: 0, cat: l}: l² / (l·l) = 1; vs "the cat" {the: l, cat: l}: l² / (l·√2·l) = 1/√2
        //   (1 + 1/√2) · exp(-1/72) / 4 orders / 2 references · 10 = 2.104451
        // (Counting df per reference would make df(cat) = 2, idf 0, and the score 0.)
        CaptionMetrics.Scores s = CaptionMetrics.score(List.of("cat", "a dog"),
                List.of(List.of("a cat", "the cat"), List.of("a dog")));
        double image1 = (1 + 1 / Math.sqrt(2)) * Math.exp(-1.0 / 72) / 8 * 10;
        assertArrayEquals(new double[] {image1, 5.0}, s.perImageCider(), EPS);
    }

    @Test
    void toMapNamesTheScores() {
        Map<String, Object> m = score("a cat", List.of("a cat sat on the mat")).toMap();
        assertEquals(List.of("bleu1", "bleu2", "bleu3", "bleu4", "cider", "perImageCider"), List.copyOf(m.keySet()));
        assertEquals(Math.exp(-2), (Double) m.get("bleu1"), EPS);
        assertEquals(List.of(0.0), m.get("perImageCider"));
    }

    @Test
    void rejectsMismatchedInput() {
        assertThrows(IllegalArgumentException.class, () -> CaptionMetrics.score(List.of("a"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> CaptionMetrics.score(List.of("a"), List.of(List.of())));
    }

    private static CaptionMetrics.Scores score(String candidate, List<String> references) {
        return CaptionMetrics.score(List.of(candidate), List.of(references));
    }
}
