package org.peft4j.peft;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

    /**
     * As {@link #load(Path, String)}, for a base whose Conv1D weights were transposed to
     * {@code [out, in]} linears when it was loaded (GPT-2, {@code TextCheckpoint}). PEFT's
     * {@code fan_in_fan_out} only says that the checkpoint stores a layer as {@code [in, out]}; its
     * lora_A {@code [r, in]} and lora_B {@code [out, r]} are the same either way, so the flag is
     * accepted and dropped here (elsewhere it is refused: a linear stored {@code [in, out]} would
     * need the merge transposed).
     */
    public void loadOntoTransposedConv1d(Path dir, String name) throws IOException {
        load(dir, name, json -> {
            if (json instanceof ObjectNode o && o.has("fan_in_fan_out")) {
                o.put("fan_in_fan_out", false);
            }
            return PeftConfigs.fromJson(json);
        });
    }
}
