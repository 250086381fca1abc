package org.peft4j.models.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values {@code [B, H, T, hd]} of every layer for the tokens seen so far, so that each new
 * token costs one row of attention instead of the whole sequence again. The arrays live in the
 * cache's own manager: a generation step's scope can close everything else it made.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    public KvCache(int layers, NDManager parent) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Tokens cached (the position of the next token). */
    public int length() {
        return length;
    }

    /** Layer {@code i}'s cached keys and values, each followed by the new ones; returns the full arrays. */
    NDList append(int layer, NDArray k, NDArray v) {
        NDArray fullK = keys[layer] == null ? k : NDArrays.concat(new NDList(keys[layer], k), 2);
        NDArray fullV = values[layer] == null ? v : NDArrays.concat(new NDList(values[layer], v), 2);
        NDArray keepK = fullK.duplicate();
        NDArray keepV = fullV.duplicate();
        keepK.attach(manager);
        keepV.attach(manager);
        ai.djl.ndarray.NDScope.unregister(keepK, keepV); // outlive the block's scope (inference frees intermediates)
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = keepK;
        values[layer] = keepV;
        if (layer == keys.length - 1) {
            length = (int) keepK.getShape().get(2);
        }
        return new NDList(fullK, fullV);
    }

    /** Keeps rows {@code index} of the batch, in that order (beam search's survivors). */
    public void reorder(NDArray index) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                NDArray k = keys[i].get(index);
                NDArray v = values[i].get(index);
                k.attach(manager);
                v.attach(manager);
                ai.djl.ndarray.NDScope.unregister(k, v);
                keys[i].close();
                values[i].close();
                keys[i] = k;
                values[i] = v;
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
