package org.peft4j.data.suite;

import java.util.List;
import java.util.Random;

/** Draws one example of a class; everything else about the image (the nuisance) comes from random. */
interface ImageGenerator {
    List<String> classes();

    /** Draws onto a black canvas; must take every random choice from random, so equal seeds give equal images. */
    void draw(Canvas canvas, int label, Random random);
}
