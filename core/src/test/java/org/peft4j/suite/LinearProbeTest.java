package org.peft4j.suite;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.TestImages;
import org.peft4j.demo.FashionMnistDemo;
import org.peft4j.models.vit.VitCheckpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The project's backbone as the suite gets it, and its linear probe, on a tiny generated Fashion-MNIST. */
class LinearProbeTest {

    @Test
    void theBackboneIsPretrainedOnceAndItsLinearProbeComputedOnce(@TempDir Path tmp) throws IOException {
        Path data = Files.createDirectories(tmp.resolve("fashion-mnist"));
        TestImages.writeFashionMnist(data, "train", 200, 28, 28, true);
        TestImages.writeFashionMnist(data, "t10k", 100, 28, 28, true);
        Path cache = tmp.resolve("cache");

        FashionMnistDemo.Backbone b = FashionMnistDemo.backbone(data, cache, false);
        assertEquals(cache.resolve("vit-fmnist-garments-v1"), b.dir());
        assertEquals(false, b.record().get("cached"));
        assertEquals(FashionMnistDemo.PRETRAIN_EPOCHS, b.record().get("epochs"));
        assertTrue(Files.isRegularFile(b.dir().resolve(VitCheckpoint.WEIGHTS_FILE)));
        assertEquals(true, FashionMnistDemo.backbone(data, cache, false).record().get("cached"));

        Map<String, Object> probe = LinearProbe.ensure(b.dir(), data, false);
        double accuracy = ((Number) probe.get("accuracy")).doubleValue();
        assertTrue(accuracy >= 0 && accuracy <= 1, probe.toString());
        assertEquals(50, probe.get("test_images"), "the t10k images of classes 0-4");
        Path file = b.dir().resolve(LinearProbe.FILE);
        String saved = Files.readString(file);
        assertEquals(probe, LinearProbe.ensure(b.dir(), data, false), "read back, not recomputed");
        assertEquals(saved, Files.readString(file));
    }
}
