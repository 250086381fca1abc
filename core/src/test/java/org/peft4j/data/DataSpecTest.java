package org.peft4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSpecTest {
    @TempDir
    Path dir;

    @Test
    void fashionMnistWithDirectory() throws IOException {
        TestImages.writeFashionMnist(dir, "train", 100, 2, 2, true);
        TestImages.writeFashionMnist(dir, "t10k", 20, 2, 2, true);

        DataSpec.Splits splits = DataSpec.resolve("fashion-mnist:" + dir, 0.1, 5);

        assertEquals(90, splits.train().size());
        assertEquals(10, splits.val().size());
        assertEquals(20, splits.test().size());
        assertEquals("fashion-mnist/test", splits.test().name());
        assertEquals(FashionMnist.CLASSES, splits.val().classes());
    }

    @Test
    void folderWithTrainValAndOptionalTest() throws IOException {
        for (String split : List.of("train", "val")) {
            ImageFolderTest.writeRgb(dir.resolve(split + "/cat/1.png"), 1, "png");
            ImageFolderTest.writeRgb(dir.resolve(split + "/dog/1.png"), 2, "png");
        }
        DataSpec.Splits noTest = DataSpec.resolve("folder:" + dir, 0.2, 1);
        assertEquals(2, noTest.train().size());
        assertSame(noTest.val(), noTest.test());

        ImageFolderTest.writeRgb(dir.resolve("test/cat/1.png"), 1, "png");
        ImageFolderTest.writeRgb(dir.resolve("test/dog/2.png"), 1, "png");
        ImageFolderTest.writeRgb(dir.resolve("test/dog/3.png"), 1, "png");
        assertEquals(3, DataSpec.resolve("folder:" + dir, 0.2, 1).test().size());
    }

    @Test
    void folderSplitsWithDifferentClassesAreRejected() throws IOException {
        ImageFolderTest.writeRgb(dir.resolve("train/cat/1.png"), 1, "png");
        ImageFolderTest.writeRgb(dir.resolve("val/dog/1.png"), 1, "png");

        DataException e = assertThrows(DataException.class, () -> DataSpec.resolve("folder:" + dir, 0.2, 1));
        assertTrue(e.getMessage().contains("[dog]") && e.getMessage().contains("[cat]"), e.getMessage());
    }

    @Test
    void plainFolderIsSplitDeterministically() throws IOException {
        for (int i = 0; i < 10; i++) {
            ImageFolderTest.writeRgb(dir.resolve("a/" + i + ".png"), i, "png");
            ImageFolderTest.writeRgb(dir.resolve("b/" + i + ".png"), i, "png");
        }
        DataSpec.Splits splits = DataSpec.resolve("folder:" + dir, 0.2, 1);

        assertEquals(16, splits.train().size());
        assertEquals(4, splits.val().size());
        assertSame(splits.val(), splits.test());
        assertThrows(IllegalArgumentException.class, () -> DataSpec.resolve("folder:" + dir, 0.0, 1));
    }

    @Test
    void unknownSpecListsAcceptedForms() {
        for (String bad : new String[] {"mnist", "folder:", "fashion-mnist:", "", "suite:"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DataSpec.resolve(bad, 0.1, 1));
            assertTrue(e.getMessage().contains("fashion-mnist:DIR") && e.getMessage().contains("folder:PATH")
                    && e.getMessage().contains("suite:NAME"), e.getMessage());
        }
    }

    @Test
    void suiteTaskGivesItsFixedVtabSplits() {
        DataSpec.Splits splits = DataSpec.resolve("suite:count", 0.5, 1);
        DataSpec.Splits otherSeed = DataSpec.resolve("suite:count", 0.1, 2);

        assertEquals(800, splits.train().size());
        assertEquals(200, splits.val().size());
        assertEquals(2000, splits.test().size());
        assertEquals("suite:count/test", splits.test().name());
        assertEquals(List.of("1", "2", "3", "4", "5", "6"), splits.train().classes());
        assertArrayEquals(splits.val().image(7).pixels(), otherSeed.val().image(7).pixels());
    }

    @Test
    void unknownSuiteTaskListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataSpec.resolve("suite:imagenet", 0.1, 1));
        assertTrue(e.getMessage().contains("imagenet") && e.getMessage().contains("dsprites-location"), e.getMessage());
    }

    @Test
    void missingFashionMnistSaysHowToInstall() {
        DataException e = assertThrows(DataException.class,
                () -> DataSpec.resolve("fashion-mnist:" + dir.resolve("absent"), 0.1, 1));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }
}
