package org.peft4j.train;

import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.ManagedTest;
import org.peft4j.data.seg.SegDomains;
import org.peft4j.models.sam.SamCheckpoint;
import org.peft4j.models.sam.SamConfig;
import org.peft4j.models.sam.SamModel;
import org.peft4j.peft.MethodOptions;
import org.peft4j.peft.Methods;
import org.peft4j.peft.PeftModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Promptable SAM training end to end on the tiny SAM: what trains, what is saved, the scores, resuming. */
class SegFineTuningTest extends ManagedTest {

    private static final SegDomains.Splits CELLS = SegDomains.splits("cells", 96, new SegDomains.Sizes(8, 4), 1, null);

    private SamModel tinySam() {
        Engine.getInstance().setRandomSeed(11);
        SamModel sam = new SamModel(SamConfig.preset("sam-tiny"));
        sam.initialize(manager);
        return sam;
    }

    private static TrainConfig config(int epochs) {
        return new TrainConfig(epochs, 4, 1e-3, 0.01, 0.1, 1, 1.0, 5, 1, false);
    }

    @Test
    void everySegmentationMethodTrainsOnlyItsPartAndIsScored(@TempDir Path tmp) throws IOException {
        for (String method : Methods.segmentationNames()) {
            if (method.equals(SegFineTuning.ZERO_SHOT)) {
                continue; // below
            }
            SamModel sam = tinySam();
            float[] encoderBefore = sam.imageEncoder().namedParameters().get("blocks.0.attn.qkv.weight").getArray().toFloatArray();
            float[] decoderBefore = sam.maskDecoder().namedParameters().get("iou_token.weight").getArray().toFloatArray();
            var tuner = Methods.samConfig(method, MethodOptions.DEFAULTS, false);
            Path out = tmp.resolve(method);
            SegFineTuning.Outcome o = SegFineTuning.run(sam, method, tuner, config(1), CELLS.train(), CELLS.test(), out,
                    manager, false, false, 1);
            assertTrue(o.trainableParams() > 0 && o.trainableParams() < o.allParams(), method);
            double miou = o.test().meanIouPoint();
            assertTrue(miou >= 0 && miou <= 1, method + ": " + miou);
            assertEquals(1, o.test().examples().size());
            assertTrue(o.test().regions() > 0);
            float[] encoderAfter = sam.imageEncoder().namedParameters().get("blocks.0.attn.qkv.weight").getArray().toFloatArray();
            float[] decoderAfter = sam.maskDecoder().namedParameters().get("iou_token.weight").getArray().toFloatArray();
            assertTrue(java.util.Arrays.equals(encoderBefore, encoderAfter), method + " changed the frozen encoder");
            assertEquals(method.equals("decoder-only"), !java.util.Arrays.equals(decoderBefore, decoderAfter), method);
            if (method.equals("decoder-only")) {
                assertTrue(Files.isRegularFile(out.resolve(SamCheckpoint.WEIGHTS_FILE)));
                SamCheckpoint.load(out, manager); // a whole model folder
            } else {
                assertTrue(Files.isRegularFile(out.resolve(PeftModel.WEIGHTS_FILE)), method);
                SamModel fresh = tinySam();
                new PeftModel(fresh, null, manager).load(out, PeftModel.DEFAULT_ADAPTER);
            }
            assertEquals(method.equals("mopeft"), Files.isRegularFile(out.resolve(FineTuning.GATES_FILE)), method);
            assertEquals(method.equals("mopeft"), o.gates() != null);
        }
    }

    @Test
    void zeroShotTrainsNothingAndScoresTheModelAsItIs(@TempDir Path tmp) throws IOException {
        SamModel sam = tinySam();
        float[] before = sam.maskDecoder().namedParameters().get("iou_token.weight").getArray().toFloatArray();
        SegFineTuning.Outcome o = SegFineTuning.run(sam, SegFineTuning.ZERO_SHOT, null, config(1), CELLS.train(),
                CELLS.test(), tmp, manager, false, false, 0);
        assertEquals(0, o.trainableParams());
        assertTrue(o.test().meanIouPoint() >= 0);
        assertTrue(java.util.Arrays.equals(before, sam.maskDecoder().namedParameters().get("iou_token.weight").getArray().toFloatArray()));
    }

    @Test
    void tuneDecoderSavesTheDecoderWithTheAdapter(@TempDir Path tmp) throws IOException {
        SamModel sam = tinySam();
        var tuner = Methods.samConfig("lora", MethodOptions.DEFAULTS, true);
        SegFineTuning.Outcome o = SegFineTuning.run(sam, "lora", tuner, config(1), CELLS.train(), CELLS.test(), tmp,
                manager, false, false, 0);
        long decoder = sam.maskDecoder().namedParameters().values().stream().mapToLong(org.peft4j.nn.Module::numel).sum();
        assertTrue(o.trainableParams() > decoder);
        try (var r = org.peft4j.io.SafetensorsReader.open(tmp.resolve(PeftModel.WEIGHTS_FILE))) {
            assertTrue(r.names().stream().anyMatch(n -> n.contains("mask_decoder")), r.names().toString());
        }
    }

    @Test
    void resumingAFinishedRunRestoresItsWeightsWithoutTraining(@TempDir Path tmp) throws IOException {
        var tuner = Methods.samConfig("mopeft", MethodOptions.DEFAULTS, false);
        SegFineTuning.Outcome straight = SegFineTuning.run(tinySam(), "mopeft", tuner, config(2), CELLS.train(),
                CELLS.test(), tmp, manager, false, false, 0);
        SegFineTuning.Outcome resumed = SegFineTuning.run(tinySam(), "mopeft", tuner, config(2), CELLS.train(),
                CELLS.test(), tmp, manager, false, true, 0);
        assertTrue(resumed.training().epochs().isEmpty(), "a finished run trained again");
        assertEquals(straight.test().meanIouPoint(), resumed.test().meanIouPoint(), 1e-6);
        Map<String, Map<String, Double>> g = resumed.gates();
        assertNotNull(g);
        assertFalse(g.isEmpty());
    }
}
