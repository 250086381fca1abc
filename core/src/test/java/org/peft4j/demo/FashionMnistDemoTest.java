package org.peft4j.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.data.TestImages;
import org.peft4j.io.Json;
import org.peft4j.peft.AdapterLabels;
import org.peft4j.peft.PeftModel;
import org.peft4j.train.FineTuning;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The main job end to end on a tiny generated Fashion-MNIST (the real one is used by ./peft4j demo). */
class FashionMnistDemoTest {

    @Test
    void runsEveryMethodWritesTheReportAndReusesTheCachedBackbone(@TempDir Path tmp) throws IOException {
        Path data = Files.createDirectories(tmp.resolve("fashion-mnist"));
        TestImages.writeFashionMnist(data, "train", 200, 28, 28, true);
        TestImages.writeFashionMnist(data, "t10k", 100, 28, 28, true);
        FashionMnistDemo.Settings settings = new FashionMnistDemo.Settings(data, tmp.resolve("cache"),
                tmp.resolve("out"), 8, 1, 1, 10, 1, false);

        FashionMnistDemo.Report report = FashionMnistDemo.run(settings);
        DemoReport.write(report, settings.outDir());

        assertEquals(false, report.backbone().get("cached"));
        assertEquals(List.of("head", "lora", "full"),
                report.outcomes().stream().map(FineTuning.Outcome::method).toList());
        FineTuning.Outcome head = report.outcomes().get(0);
        FineTuning.Outcome lora = report.outcomes().get(1);
        FineTuning.Outcome full = report.outcomes().get(2);
        assertTrue(head.trainableParams() < lora.trainableParams() && lora.trainableParams() < full.trainableParams());
        assertTrue(lora.trainablePercent() < 10, "LoRA trains a few percent: " + lora.trainablePercent());
        assertEquals(100.0, full.trainablePercent(), 1e-9);

        Path out = settings.outDir();
        assertEquals(4, Files.readAllLines(out.resolve("results.csv")).size(), "header + three methods");
        assertEquals(3, Json.MAPPER.readTree(out.resolve("results.json").toFile()).get("results").size());
        for (String png : List.of("curves.png", "summary.png")) {
            byte[] magic = java.util.Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 4);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, magic, png);
        }
        assertTrue(Files.isRegularFile(out.resolve("lora").resolve(PeftModel.WEIGHTS_FILE)));
        assertEquals(List.of("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"), AdapterLabels.read(out.resolve("lora")));
        assertTrue(DemoReport.table(report.outcomes()).lines().anyMatch(l -> l.startsWith("lora")));

        FashionMnistDemo.Report again = FashionMnistDemo.run(settings);
        assertEquals(true, again.backbone().get("cached"));
        assertEquals(lora.testAccuracy(), again.outcomes().get(1).testAccuracy(), 1e-12, "same seed, same result");
    }

    @Test
    void missingDataOutsideTheDebianPathExplainsHowToGetIt(@TempDir Path tmp) {
        IOException e = assertThrows(IOException.class, () -> FashionMnistDemo.ensureData(tmp.resolve("none")));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }
}
