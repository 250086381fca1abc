package org.peft4j.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-class IoU summed over images, background from "no class predicted", mIoU over the foreground. */
class IouMeterTest {

    @Test
    void intersectionsAndUnionsAddUpOverImages() {
        IouMeter m = new IouMeter(List.of("bg", "a", "b"));
        // image 1: truth [a a b 0], predicted a on {0, 3}, b on {2}
        m.add(new boolean[][] {null, {true, false, false, true}, {false, false, true, false}}, new byte[] {1, 1, 2, 0});
        // image 2: truth [0 0 a a], predicted a on {2, 3}, b nowhere
        m.add(new boolean[][] {null, {false, false, true, true}, null}, new byte[] {0, 0, 1, 1});
        // a: I = 1 + 2, U = 3 + 2; b: I = 1, U = 1; bg: truth {3} + {0,1}, none-predicted {1} + {0,1}: I = 2, U = 4
        assertEquals(3.0 / 5, m.iou(1), 1e-12);
        assertEquals(1.0, m.iou(2), 1e-12);
        assertEquals(2.0 / 4, m.iou(0), 1e-12);
        assertEquals((3.0 / 5 + 1.0) / 2, m.meanIou(), 1e-12);
        assertEquals(3, m.perClass().size());
    }

    @Test
    void classesThatNeverOccurAreLeftOut() {
        IouMeter m = new IouMeter(List.of("bg", "a", "b"));
        m.add(new boolean[][] {null, {true, false}, null}, new byte[] {1, 0});
        assertTrue(Double.isNaN(m.iou(2)));
        assertEquals(1.0, m.meanIou(), 1e-12);
    }
}
