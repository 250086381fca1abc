package org.peft4j.peft;

import ai.djl.ndarray.NDManager;
import org.peft4j.nn.Module;
import org.peft4j.tuners.AdapterModel;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The public entry point, as Hugging Face PEFT's {@code PeftModel}: an {@link AdapterModel} that
 * reads adapter folders of every method peft4j knows ({@link PeftConfigs}).
 */
public final class PeftModel extends AdapterModel {

    public PeftModel(Module base, String headPath, NDManager manager) {
        super(base, headPath, manager);
    }

    /**
     * Reads an adapter folder as adapter {@code name}, whatever its method; all or nothing (see
     * {@link AdapterModel#load}).
     */
    public void load(Path dir, String name) throws IOException {
        load(dir, name, PeftConfigs::fromJson);
    }

    /**
     * As {@link #load(Path, String)}, leaving out the adapter's modules_to_save (its head), for
     * merging adapters whose heads differ; the heads are read apart.
     */
    public void loadWithoutHeads(Path dir, String name) throws IOException {
        load(dir, name, PeftConfigs::fromJson, true);
    }
}
