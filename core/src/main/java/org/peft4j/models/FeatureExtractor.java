package org.peft4j.models;

import ai.djl.ndarray.NDArray;
import org.peft4j.nn.ForwardContext;

/** A classifier's backbone up to the head: images in, one pooled feature vector per image out. */
public interface FeatureExtractor {

    /** {@code pixels [B, C, H, W]} → features {@code [B, featureSize()]}. */
    NDArray features(NDArray pixels, ForwardContext ctx);

    long featureSize();
}
