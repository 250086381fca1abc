package org.peft4j.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.cli.Main;
import org.peft4j.io.SafetensorsReader;
import org.peft4j.spark.cli.SparkMain;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data-parallel training on local[2]: 2 replicas × 3 steps give the adapter one process gives with the same global batches. */
class SparkTrainTest {

    @TempDir
    Path tmp;

    /** Two classes (bright and dark noise), train 24 / val 4 / test 4 images. */
    private Path data() throws Exception {
        Path root = tmp.resolve("data");
        Random r = new Random(5);
        int[] counts = {12, 2, 2};
        String[] splits = {"train", "val", "test"};
        for (int s = 0; s < 3; s++) {
            for (String cls : List.of("bright", "dark")) {
                Path dir = Files.createDirectories(root.resolve(splits[s]).resolve(cls));
                for (int i = 0; i < counts[s]; i++) {
                    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                    for (int y = 0; y < 16; y++) {
                        for (int x = 0; x < 16; x++) {
                            int v = cls.equals("bright") ? 128 + r.nextInt(128) : r.nextInt(128);
                            img.setRGB(x, y, v * 0x010101);
                        }
                    }
                    ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
                }
            }
        }
        return root;
    }

    private static List<String> args(Path data, Path out) {
        return new ArrayList<>(List.of("--model", SparkPredictTest.MODEL.toString(), "--data", "folder:" + data, "--method", "lora",
                "--rank", "4", "--epochs", "1", "--batch-size", "8", "--lr", "0.01", "--no-progress", "--out", out.toString()));
    }

    @Test
    void twoReplicasTrainTheAdapterOneProcessTrains() throws Exception {
        Path data = data();
        Path single = tmp.resolve("single");
        List<String> one = new ArrayList<>(List.of("train"));
        one.addAll(args(data, single));
        assertEquals(0, Main.run(one.toArray(String[]::new)));
        Path parallel = tmp.resolve("parallel");
        List<String> two = new ArrayList<>(List.of("train", "--master", "local[2]", "--workers", "2"));
        two.addAll(args(data, parallel));
        assertEquals(0, SparkMain.run(two.toArray(String[]::new)));
        try (SafetensorsReader a = SafetensorsReader.open(single.resolve("adapter_model.safetensors"));
             SafetensorsReader b = SafetensorsReader.open(parallel.resolve("adapter_model.safetensors"))) {
            assertEquals(a.names(), b.names());
            double worst = 0;
            for (String name : a.names()) {
                float[] x = a.readFloats(name);
                float[] y = b.readFloats(name);
                for (int i = 0; i < x.length; i++) {
                    worst = Math.max(worst, Math.abs(x[i] - y[i]));
                }
            }
            assertTrue(worst <= 1e-5, "largest difference " + worst);
            double moved = 0; // lora_B starts at zero: it moved, so the comparison is of trained weights
            for (String name : a.names()) {
                if (name.contains("lora_B")) {
                    for (float v : a.readFloats(name)) {
                        moved = Math.max(moved, Math.abs(v));
                    }
                }
            }
            assertTrue(moved > 1e-3, "lora_B moved by " + moved);
            System.out.println("spark train vs one process: largest difference " + worst + ", lora_B up to " + moved);
        }
        assertTrue(Files.isRegularFile(parallel.resolve("metrics.jsonl")), "task 0 writes the metrics");
        assertEquals(2, SparkMain.run("train", "--master", "local[2]", "--workers", "2", "--task", "segmentation", "--out",
                tmp.resolve("never").toString()));
    }
}
