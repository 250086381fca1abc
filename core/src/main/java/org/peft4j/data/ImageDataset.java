package org.peft4j.data;

import java.util.List;

/** A labelled image collection addressed by index 0..size()-1. */
public interface ImageDataset {
    /** For messages: "fashion-mnist/train", a folder path, ... */
    String name();

    int size();

    /** Class names; a label is an index into this list. */
    List<String> classes();

    int label(int index);

    /** May decode lazily; failures throw {@link DataException} naming the file. */
    RawImage image(int index);
}
