package org.peft4j.segmentation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.peft4j.data.seg.Regions;
import org.peft4j.data.seg.SegMask;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SAM's loss against a double-precision computation, and prompts that stay on (or off) their region. */
class SegLossTest {

    @Test
    void focalDiceAndIouTermsMatchAHandComputation() {
        Random r = new Random(5);
        int b = 2;
        int n = 3 * 4;
        float[] logits = new float[b * n];
        float[] target = new float[b * n];
        float[] valid = new float[b * n];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 3);
            target[i] = r.nextBoolean() ? 1 : 0;
            valid[i] = i % n < 9 ? 1 : 0; // the last row is padding
        }
        float[] iouPred = {0.3f, 0.8f};
        double focal = 0;
        double dice = 0;
        double iouMse = 0;
        for (int k = 0; k < b; k++) {
            double f = 0;
            double inter = 0;
            double ps = 0;
            double ts = 0;
            double hardI = 0;
            double hardU = 0;
            int count = 0;
            for (int i = k * n; i < (k + 1) * n; i++) {
                if (valid[i] == 0) {
                    continue;
                }
                count++;
                double p = 1 / (1 + Math.exp(-logits[i]));
                double y = target[i];
                double bce = -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
                double pt = p * y + (1 - p) * (1 - y);
                double alpha = y * 0.25 + (1 - y) * 0.75;
                f += alpha * (1 - pt) * (1 - pt) * bce;
                inter += p * y;
                ps += p;
                ts += y;
                boolean hard = logits[i] > 0;
                hardI += hard && y == 1 ? 1 : 0;
                hardU += hard || y == 1 ? 1 : 0;
            }
            focal += f / count / b;
            dice += (1 - (2 * inter + 1) / (ps + ts + 1)) / b;
            iouMse += Math.pow(iouPred[k] - hardI / Math.max(1, hardU), 2) / b;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(b, 1, 3, 4);
            SegLoss.Value v = SegLoss.of(m.create(logits, s), m.create(target, s), m.create(valid, s),
                    m.create(iouPred, new Shape(b, 1)));
            assertEquals(focal, v.focal(), 1e-5);
            assertEquals(dice, v.dice(), 1e-5);
            assertEquals(iouMse, v.iou(), 1e-5);
            assertEquals(20 * focal + dice + iouMse, v.total().getFloat(), 1e-4);
        }
    }

    @Test
    void sampledPromptsAreOnTheRegionAndFixedOnesRepeat() {
        byte[] ids = new byte[20 * 20];
        for (int y = 5; y < 12; y++) {
            for (int x = 3; x < 9; x++) {
                ids[y * 20 + x] = 1;
            }
        }
        Regions.Region region = Regions.of(new SegMask(20, 20, ids), 1).get(0);
        Random rnd = new Random(1);
        for (int t = 0; t < 50; t++) {
            PromptSampler.Prompt p = PromptSampler.sample(region, 20, 20, PromptSampler.Kind.POINT, rnd);
            int x = (int) p.points()[0][0];
            int y = (int) p.points()[0][1];
            assertEquals(1, ids[y * 20 + x], "positive point off the region");
            if (p.labels()[1] == 0) {
                assertEquals(0, ids[(int) p.points()[1][1] * 20 + (int) p.points()[1][0]], "negative point on the region");
            }
            PromptSampler.Prompt box = PromptSampler.sample(region, 20, 20, PromptSampler.Kind.BOX, rnd);
            float[] bx = box.box();
            assertTrue(bx[0] >= 0 && bx[1] >= 0 && bx[2] <= 19 && bx[3] <= 19 && bx[2] > bx[0] && bx[3] > bx[1]);
        }
        PromptSampler.Prompt fixed = PromptSampler.fixed(region, PromptSampler.Kind.POINT);
        assertEquals(1, ids[(int) fixed.points()[0][1] * 20 + (int) fixed.points()[0][0]]);
        try (NDManager m = NDManager.newBaseManager()) {
            var prompts = PromptSampler.batch(List.of(fixed, fixed), new float[] {2, 2}, new float[] {0.5f, 0.5f}, m);
            NDArray pts = prompts.points();
            assertEquals(new Shape(2, 2, 2), pts.getShape());
            assertEquals(fixed.points()[0][0] * 2, pts.getFloat(0, 0, 0), 1e-6);
            assertEquals(-1f, prompts.labels().getFloat(1, 1));
        }
    }
}
