package org.peft4j.data.vl;

import org.peft4j.data.RawImage;

import java.util.List;

/** One image with its reference captions (several, as in COCO, for BLEU/CIDEr-style scoring). */
public record CaptionSample(RawImage image, String imageName, List<String> captions) {
    public CaptionSample {
        if (image == null || imageName == null || captions == null) {
            throw new IllegalArgumentException("a caption sample needs an image, its name and captions");
        }
        captions = List.copyOf(captions);
        if (captions.isEmpty() || captions.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("captions must be non-empty strings, got " + captions + " for image " + imageName);
        }
    }
}
