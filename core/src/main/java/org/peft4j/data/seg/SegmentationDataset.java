package org.peft4j.data.seg;

import org.peft4j.data.RawImage;

import java.util.List;

/** Images with a class-id mask each, addressed 0..size()-1; class 0 is the background. */
public interface SegmentationDataset {

    /** For messages: a folder path, a suite domain, ... */
    String name();

    int size();

    /** Class names by id, background first. */
    List<String> classes();

    RawImage image(int index);

    /** The mask of image {@code index}, of the image's size; failures name the files. */
    SegMask mask(int index);

    /** One image with its mask. */
    record Sample(RawImage image, SegMask mask) {}

    /** Image and mask {@code index} together; a generated dataset draws them once. */
    default Sample sample(int index) {
        return new Sample(image(index), mask(index));
    }
}
