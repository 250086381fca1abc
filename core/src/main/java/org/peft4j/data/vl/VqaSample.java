package org.peft4j.data.vl;

import org.peft4j.data.RawImage;

import java.util.List;

/**
 * One visual question. {@code answers} are the annotators' answers (usually 10), from which VQAv2's
 * soft target is computed: an answer given by k annotators scores min(1, k / 3).
 * {@code questionType} groups questions for per-type accuracy (e.g. {@link SortOfClevr#TYPES}).
 */
public record VqaSample(RawImage image, String imageName, String question, String questionType, List<String> answers) {
    public VqaSample {
        if (image == null || imageName == null || question == null || questionType == null || answers == null) {
            throw new IllegalArgumentException("a VQA sample needs an image, its name, a question, a type and answers");
        }
        if (question.isBlank()) {
            throw new IllegalArgumentException("empty question for image " + imageName);
        }
        answers = List.copyOf(answers);
        if (answers.isEmpty() || answers.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("answers must be non-empty strings, got " + answers + " for image " + imageName);
        }
    }
}
