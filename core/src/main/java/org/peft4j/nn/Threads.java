package org.peft4j.nn;

import ai.djl.engine.Engine;

/** Engine state that belongs to a thread, not to the JVM. */
public final class Threads {

    private Threads() {}

    /**
     * Turns libtorch's gradient recording off for the calling thread. libtorch keeps grad mode per
     * thread and starts every thread with it on; DJL turns it off only on the thread that loads the
     * engine (and on inside a GradientCollector). Any other thread that runs the model (a server's
     * batcher, a Spark task) would otherwise record an autograd graph for every forward pass, and an
     * optimizer's in-place update of a parameter would fail ("a leaf Variable that requires grad").
     * Call it first thing on such a thread; a no-op for other engines.
     */
    public static void gradientsOffOnThisThread() {
        if ("PyTorch".equals(Engine.getInstance().getEngineName())) {
            ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        }
    }
}
