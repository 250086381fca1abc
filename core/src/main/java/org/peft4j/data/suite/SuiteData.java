package org.peft4j.data.suite;

import org.peft4j.data.ImageDataset;

/** One task's splits. trainval = train + val (the 1000 images the final VTAB run trains on). */
public record SuiteData(SuiteTask task, ImageDataset train, ImageDataset val, ImageDataset trainval,
        ImageDataset test) {
}
