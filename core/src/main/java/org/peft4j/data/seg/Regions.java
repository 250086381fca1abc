package org.peft4j.data.seg;

import java.util.ArrayList;
import java.util.List;

/**
 * The prompt targets of a mask: its connected regions (4-connected pixels of one class id, class 0
 * excluded), each with its pixels, bounding box and the pixel deepest inside it. A promptable model
 * is asked to segment one region from a point or a box on it.
 */
public final class Regions {

    /** One region: class id, pixel indices (row-major), inclusive box, and the pixel farthest from its border. */
    public record Region(int classId, int[] pixels, int x0, int y0, int x1, int y1, int centreX, int centreY) {
        public int area() {
            return pixels.length;
        }
    }

    private Regions() {}

    /** The regions of {@code mask} with at least {@code minArea} pixels, in scan order of their first pixel. */
    public static List<Region> of(SegMask mask, int minArea) {
        int w = mask.width();
        int h = mask.height();
        byte[] ids = mask.ids();
        int[] label = new int[w * h];
        int[] stack = new int[w * h];
        List<Region> out = new ArrayList<>();
        int next = 0;
        for (int start = 0; start < ids.length; start++) {
            int cls = ids[start] & 0xFF;
            if (cls == 0 || label[start] != 0) {
                continue;
            }
            next++;
            int top = 0;
            stack[top++] = start;
            label[start] = next;
            List<Integer> pixels = new ArrayList<>();
            int x0 = w;
            int y0 = h;
            int x1 = -1;
            int y1 = -1;
            while (top > 0) {
                int p = stack[--top];
                pixels.add(p);
                int x = p % w;
                int y = p / w;
                x0 = Math.min(x0, x);
                x1 = Math.max(x1, x);
                y0 = Math.min(y0, y);
                y1 = Math.max(y1, y);
                int[] neighbours = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
                for (int q : neighbours) {
                    if (q >= 0 && label[q] == 0 && (ids[q] & 0xFF) == cls) {
                        label[q] = next;
                        stack[top++] = q;
                    }
                }
            }
            if (pixels.size() < minArea) {
                continue;
            }
            int[] px = pixels.stream().mapToInt(Integer::intValue).sorted().toArray();
            int centre = deepest(px, label, next, w, h);
            out.add(new Region(cls, px, x0, y0, x1, y1, centre % w, centre / w));
        }
        return out;
    }

    /**
     * The region pixel with the largest city-block distance to a pixel outside it (ties: the first in
     * scan order), by breadth-first search from the region's border inwards: a point prompt that is
     * well inside even for a thin or curved region, and the same on every run.
     */
    private static int deepest(int[] pixels, int[] label, int id, int w, int h) {
        int[] dist = new int[w * h];
        int[] queue = new int[pixels.length];
        int head = 0;
        int tail = 0;
        for (int p : pixels) {
            int x = p % w;
            int y = p / w;
            boolean border = x == 0 || y == 0 || x == w - 1 || y == h - 1 || label[p - 1] != id || label[p + 1] != id
                    || label[p - w] != id || label[p + w] != id;
            if (border) {
                dist[p] = 1;
                queue[tail++] = p;
            }
        }
        int best = queue[0];
        while (head < tail) {
            int p = queue[head++];
            if (dist[p] > dist[best] || dist[p] == dist[best] && p < best) {
                best = p;
            }
            int x = p % w;
            int y = p / w;
            int[] neighbours = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
            for (int q : neighbours) {
                if (q >= 0 && label[q] == id && dist[q] == 0) {
                    dist[q] = dist[p] + 1;
                    queue[tail++] = q;
                }
            }
        }
        return best;
    }
}
