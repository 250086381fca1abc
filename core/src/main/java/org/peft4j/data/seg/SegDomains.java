package org.peft4j.data.seg;

import org.peft4j.data.DataException;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.RawImage;

import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The built-in segmentation domains, in the spirit of MESS (22 datasets in 5 domains): five
 * generated domains with distinct statistics, one per MESS domain, and the source task the default
 * SAM is pretrained on, which is none of them. Every image and mask is a pure function of the seed
 * and its index, so the splits are the same on every machine.
 *
 * <ul>
 *   <li>{@code cells} (medical): nuclei-like blobs with wobbly edges on a noisy stained background, with unlabeled cytoplasm halos;</li>
 *   <li>{@code cracks} (engineering): thin dark random-walk cracks on concrete textures with stains that are not cracks;</li>
 *   <li>{@code aerial} (earth monitoring): top-down scenes of fields, water and buildings with shadows;</li>
 *   <li>{@code fashion} (general): Fashion-MNIST objects, tinted and scaled, on coloured clutter (needs the Fashion-MNIST files);</li>
 *   <li>{@code underwater} (agriculture/biology): fish and corals under a blue-green colour cast with caustics and haze;</li>
 *   <li>{@code shapes} (the pretraining source): opaque geometric shapes on smooth gradients, each shape its own id.</li>
 * </ul>
 */
public final class SegDomains {

    /** The five evaluation domains, in report order. */
    public static final List<String> DOMAINS = List.of("cells", "cracks", "aerial", "fashion", "underwater");
    /** The pretraining source task. */
    public static final String SOURCE = "shapes";
    /** Most shapes in one source image; each is its own class id 1..n. */
    public static final int MAX_SHAPES = 6;

    /** Images per split. */
    public record Sizes(int train, int test) {
        public static final Sizes FULL = new Sizes(192, 64);
        public static final Sizes QUICK = new Sizes(48, 16);

        public Sizes {
            if (train <= 0 || test <= 0 || train > 100_000 || test > 100_000) {
                throw new IllegalArgumentException("split sizes must be 1..100000, got " + train + "/" + test);
            }
        }
    }

    /** One domain's two splits. */
    public record Splits(SegmentationDataset train, SegmentationDataset test) {}

    private interface Generator {
        void draw(Raster canvas, Random random);
    }

    private static final Map<String, List<String>> CLASSES = new LinkedHashMap<>();

    static {
        CLASSES.put("cells", List.of("background", "nucleus"));
        CLASSES.put("cracks", List.of("background", "crack"));
        CLASSES.put("aerial", List.of("background", "building", "water", "field"));
        CLASSES.put("fashion", List.of("background", "top", "trouser", "footwear", "bag"));
        CLASSES.put("underwater", List.of("background", "fish", "coral"));
        List<String> shapes = new ArrayList<>(List.of("background"));
        for (int i = 1; i <= MAX_SHAPES; i++) {
            shapes.add("shape_" + i);
        }
        CLASSES.put(SOURCE, List.copyOf(shapes));
    }

    private SegDomains() {}

    public static boolean exists(String name) {
        return CLASSES.containsKey(name);
    }

    public static List<String> classes(String domain) {
        List<String> c = CLASSES.get(domain);
        if (c == null) {
            throw new DataException("no segmentation domain '" + domain + "'; domains: " + DOMAINS + " (source: " + SOURCE + ")");
        }
        return c;
    }

    /**
     * The train and test splits of {@code domain} at {@code size}² pixels; test images come from
     * another seed stream than training images. {@code fashionDir} is read only for {@code fashion}.
     */
    public static Splits splits(String domain, int size, Sizes sizes, long seed, Path fashionDir) {
        classes(domain);
        if (size < 32 || size > 1024) {
            throw new IllegalArgumentException("domain image size must be 32..1024, got " + size);
        }
        Generator gen = generator(domain, fashionDir);
        long base = seed * 1_000_003L + domain.hashCode();
        return new Splits(new Generated(domain + "/train", domain, size, sizes.train(), base, gen),
                new Generated(domain + "/test", domain, size, sizes.test(), base ^ 0x5DEECE66DL, gen));
    }

    /** Image {@code index} of the source task at {@code size}² (an endless stream for pretraining). */
    public static Generated source(int size, long seed, int count) {
        return new Generated(SOURCE, SOURCE, size, count, seed, generator(SOURCE, null));
    }

    private static Generator generator(String domain, Path fashionDir) {
        return switch (domain) {
            case "cells" -> SegDomains::cells;
            case "cracks" -> SegDomains::cracks;
            case "aerial" -> SegDomains::aerial;
            case "fashion" -> fashion(FashionMnist.load(fashionDir == null ? FashionMnist.DEFAULT_DIR : fashionDir, true));
            case "underwater" -> SegDomains::underwater;
            case SOURCE -> SegDomains::shapes;
            default -> throw new IllegalStateException(domain);
        };
    }

    /** A generated split: image i is drawn from {@code Random(seed + i)}, on demand, so nothing is held. */
    public static final class Generated implements SegmentationDataset {
        private final String name;
        private final String domain;
        private final int size;
        private final int count;
        private final long seed;
        private final Generator generator;

        private Generated(String name, String domain, int size, int count, long seed, Generator generator) {
            this.name = name;
            this.domain = domain;
            this.size = size;
            this.count = count;
            this.seed = seed;
            this.generator = generator;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int size() {
            return count;
        }

        @Override
        public List<String> classes() {
            return CLASSES.get(domain);
        }

        @Override
        public RawImage image(int index) {
            return draw(index).image();
        }

        @Override
        public SegMask mask(int index) {
            return draw(index).segMask();
        }

        @Override
        public Sample sample(int index) {
            Raster r = draw(index);
            return new Sample(r.image(), r.segMask());
        }

        private Raster draw(int index) {
            if (index < 0 || index >= count) {
                throw new IndexOutOfBoundsException("image " + index + " of " + count + " in " + name);
            }
            Raster canvas = new Raster(size);
            generator.draw(canvas, new Random(seed * 31 + index));
            return canvas;
        }
    }

    // ---- the domains ----

    private static void cells(Raster c, Random rnd) {
        int s = c.size;
        c.background(new float[] {0.93f, 0.78f, 0.88f}, new float[] {0.80f, 0.58f, 0.75f}, Raster.noise(rnd, s, s / 6.0, 3));
        float[] texture = Raster.noise(rnd, s, 3, 2);
        int nuclei = 4 + rnd.nextInt(9);
        List<Shape> placed = new ArrayList<>();
        for (int i = 0; i < nuclei; i++) {
            double cx = rnd.nextDouble() * s;
            double cy = rnd.nextDouble() * s;
            double a = s * (0.035 + 0.05 * rnd.nextDouble());
            double b = a * (0.6 + 0.4 * rnd.nextDouble());
            double angle = rnd.nextDouble() * Math.PI;
            Shape halo = wobbly(rnd, cx, cy, a * 1.8, b * 1.8, angle, 0.12);
            c.fill(halo, new float[] {0.82f, 0.60f, 0.80f}, texture, 0.3f, -1); // cytoplasm: not a class
            placed.add(wobbly(rnd, cx, cy, a, b, angle, 0.15));
        }
        for (Shape n : placed) {
            float shade = 0.85f + 0.3f * rnd.nextFloat();
            c.fill(n, new float[] {0.36f * shade, 0.20f * shade, 0.52f * shade}, texture, 0.5f, 1);
        }
        c.grain(rnd, 0.035f);
    }

    private static void cracks(Raster c, Random rnd) {
        int s = c.size;
        float tone = 0.45f + 0.2f * rnd.nextFloat();
        c.background(new float[] {tone - 0.12f, tone - 0.12f, tone - 0.1f}, new float[] {tone + 0.15f, tone + 0.14f, tone + 0.12f},
                Raster.noise(rnd, s, s / 8.0, 4));
        float[] texture = Raster.noise(rnd, s, 2, 1);
        for (int i = rnd.nextInt(4); i > 0; i--) { // stains: dark, soft, and not cracks
            Shape stain = wobbly(rnd, rnd.nextDouble() * s, rnd.nextDouble() * s, s * (0.05 + 0.08 * rnd.nextDouble()),
                    s * (0.04 + 0.06 * rnd.nextDouble()), rnd.nextDouble() * Math.PI, 0.3);
            float d = tone - 0.12f;
            c.fill(stain, new float[] {d, d, d - 0.02f}, texture, 0.6f, -1);
        }
        int cracks = 1 + rnd.nextInt(3);
        for (int k = 0; k < cracks; k++) {
            Path2D.Double path = new Path2D.Double();
            double x = rnd.nextDouble() * s;
            double y = rnd.nextBoolean() ? 0 : s;
            if (rnd.nextBoolean()) {
                double t = x;
                x = y;
                y = t;
            }
            double heading = Math.atan2(s / 2.0 - y, s / 2.0 - x) + (rnd.nextDouble() - 0.5);
            double width = (2.0 + 2.0 * rnd.nextDouble()) * s / 96; // 2-4 px at 96: thin, yet above the 4x-coarser low-res mask
            int steps = 20 + rnd.nextInt(30);
            double step = s / 40.0;
            for (int i = 0; i < steps; i++) {
                heading += rnd.nextGaussian() * 0.35;
                double nx = x + Math.cos(heading) * step;
                double ny = y + Math.sin(heading) * step;
                path.append(thickSegment(x, y, nx, ny, width * (0.7 + 0.6 * rnd.nextDouble())), false);
                x = nx;
                y = ny;
                if (x < -2 || y < -2 || x > s + 2 || y > s + 2) {
                    break;
                }
            }
            float d = 0.12f + 0.12f * rnd.nextFloat();
            c.fill(path, new float[] {d, d, d}, texture, 0.4f, 1);
        }
        c.grain(rnd, 0.04f);
    }

    private static void aerial(Raster c, Random rnd) {
        int s = c.size;
        c.background(new float[] {0.42f, 0.38f, 0.26f}, new float[] {0.55f, 0.55f, 0.35f}, Raster.noise(rnd, s, s / 5.0, 3));
        float[] texture = Raster.noise(rnd, s, 4, 2);
        for (int i = 2 + rnd.nextInt(3); i > 0; i--) {
            double w = s * (0.2 + 0.25 * rnd.nextDouble());
            double h = s * (0.15 + 0.2 * rnd.nextDouble());
            Shape field = rotated(new Rectangle2D.Double(-w / 2, -h / 2, w, h), rnd.nextDouble() * s, rnd.nextDouble() * s,
                    rnd.nextDouble() * Math.PI);
            boolean ripe = rnd.nextBoolean();
            float[] colour = ripe ? new float[] {0.78f, 0.70f, 0.32f} : new float[] {0.30f, 0.58f, 0.25f};
            float[] stripes = stripes(s, 2 + rnd.nextInt(3), rnd.nextDouble() * Math.PI);
            c.fill(field, colour, stripes, 0.35f, 3);
        }
        Shape water;
        if (rnd.nextBoolean()) { // a lake
            water = wobbly(rnd, rnd.nextDouble() * s, rnd.nextDouble() * s, s * (0.12 + 0.12 * rnd.nextDouble()),
                    s * (0.1 + 0.1 * rnd.nextDouble()), rnd.nextDouble() * Math.PI, 0.2);
        } else { // a river
            Path2D.Double river = new Path2D.Double();
            double y0 = rnd.nextDouble() * s;
            double amp = s * 0.1 * rnd.nextDouble();
            double width = s * (0.04 + 0.05 * rnd.nextDouble());
            double phase = rnd.nextDouble() * 6;
            for (int x = -2; x < s + 2; x += 2) {
                double ya = y0 + amp * Math.sin(x / (s / 6.0) + phase);
                double yb = y0 + amp * Math.sin((x + 2) / (s / 6.0) + phase);
                river.append(thickSegment(x, ya, x + 2, yb, width), false);
            }
            water = river;
        }
        c.fill(water, new float[] {0.16f, 0.30f, 0.52f}, texture, 0.25f, 2);
        for (int i = 3 + rnd.nextInt(8); i > 0; i--) {
            double w = s * (0.05 + 0.06 * rnd.nextDouble());
            double h = s * (0.05 + 0.06 * rnd.nextDouble());
            double cx = rnd.nextDouble() * s;
            double cy = rnd.nextDouble() * s;
            int at = c.mask[Math.min(s - 1, (int) cy) * s + Math.min(s - 1, (int) cx)];
            if (at == 2) {
                continue; // no buildings on water
            }
            double angle = rnd.nextDouble() * 0.4 - 0.2;
            Shape shadow = rotated(new Rectangle2D.Double(-w / 2 + s * 0.02, -h / 2 + s * 0.02, w, h), cx, cy, angle);
            c.fill(shadow, new float[] {0.2f, 0.2f, 0.16f}, null, 0, -1);
            float[] roof = rnd.nextBoolean() ? new float[] {0.72f, 0.30f, 0.24f} : new float[] {0.70f, 0.70f, 0.72f};
            c.fill(rotated(new Rectangle2D.Double(-w / 2, -h / 2, w, h), cx, cy, angle), roof, texture, 0.2f, 1);
        }
        c.grain(rnd, 0.03f);
    }

    /** Fashion-MNIST labels → the domain's classes: top, trouser, footwear, bag. */
    private static final int[] FASHION_CLASS = {1, 2, 1, 1, 1, 3, 1, 3, 4, 3};

    private static Generator fashion(ImageDataset items) {
        return (c, rnd) -> {
            int s = c.size;
            c.background(new float[] {0.3f, 0.3f, 0.35f}, new float[] {0.75f, 0.7f, 0.65f}, Raster.noise(rnd, s, s / 4.0, 3));
            for (int i = 12 + rnd.nextInt(12); i > 0; i--) { // clutter
                double w = s * (0.04 + 0.12 * rnd.nextDouble());
                Shape shape = rnd.nextBoolean()
                        ? rotated(new Rectangle2D.Double(-w / 2, -w / 3, w, w * 0.66), rnd.nextDouble() * s, rnd.nextDouble() * s, rnd.nextDouble() * 3)
                        : new Ellipse2D.Double(rnd.nextDouble() * s, rnd.nextDouble() * s, w, w);
                c.fill(shape, new float[] {rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()}, null, 0, -1);
            }
            int objects = 1 + rnd.nextInt(3);
            for (int k = 0; k < objects; k++) {
                int index = rnd.nextInt(items.size());
                RawImage item = items.image(index);
                int cls = FASHION_CLASS[items.label(index)];
                double scale = s * (0.3 + 0.25 * rnd.nextDouble()) / item.width();
                int side = (int) Math.round(item.width() * scale);
                int ox = rnd.nextInt(Math.max(1, s - side + 1));
                int oy = rnd.nextInt(Math.max(1, s - side + 1));
                float[] tint = {0.3f + 0.7f * rnd.nextFloat(), 0.3f + 0.7f * rnd.nextFloat(), 0.3f + 0.7f * rnd.nextFloat()};
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        int px = ox + x;
                        int py = oy + y;
                        if (px >= s || py >= s) {
                            continue;
                        }
                        int v = item.get(Math.min(item.width() - 1, (int) (x / scale)), Math.min(item.height() - 1, (int) (y / scale)), 0);
                        if (v > 24) { // the garment's silhouette
                            int i = py * s + px;
                            float t = 0.35f + 0.65f * v / 255f;
                            c.r[i] = tint[0] * t;
                            c.g[i] = tint[1] * t;
                            c.b[i] = tint[2] * t;
                            c.mask[i] = (byte) cls;
                        }
                    }
                }
            }
            c.grain(rnd, 0.03f);
        };
    }

    private static void underwater(Raster c, Random rnd) {
        int s = c.size;
        float[] depth = new float[s * s];
        double phase = rnd.nextDouble() * 6;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                double caustic = Math.sin(x * 0.31 + Math.sin(y * 0.17 + phase) * 2) * Math.sin(y * 0.27 + Math.sin(x * 0.13) * 2);
                depth[y * s + x] = (float) Math.min(1, Math.max(0, 0.6 * y / s + 0.2 + 0.15 * caustic));
            }
        }
        c.background(new float[] {0.35f, 0.75f, 0.80f}, new float[] {0.05f, 0.30f, 0.40f}, depth);
        float[] texture = Raster.noise(rnd, s, 3, 2);
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) { // corals along the bottom
            double cx = rnd.nextDouble() * s;
            double cy = s * (0.7 + 0.3 * rnd.nextDouble());
            float[][] corals = {{0.95f, 0.45f, 0.35f}, {0.85f, 0.40f, 0.75f}, {0.95f, 0.75f, 0.30f}};
            float[] colour = corals[rnd.nextInt(corals.length)];
            c.fill(wobbly(rnd, cx, cy, s * (0.08 + 0.1 * rnd.nextDouble()), s * (0.06 + 0.08 * rnd.nextDouble()), rnd.nextDouble(), 0.35),
                    colour, texture, 0.8f, 2);
        }
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
            double cx = rnd.nextDouble() * s;
            double cy = s * (0.1 + 0.65 * rnd.nextDouble());
            double len = s * (0.07 + 0.08 * rnd.nextDouble());
            double angle = (rnd.nextDouble() - 0.5) * 0.8 + (rnd.nextBoolean() ? 0 : Math.PI);
            Path2D.Double fish = new Path2D.Double(new Ellipse2D.Double(-len, -len * 0.4, 2 * len, 0.8 * len));
            fish.append(new Path2D.Double(triangle(len * 0.8, 0, len * 1.5, -len * 0.5, len * 1.5, len * 0.5)), false);
            float[] colour = rnd.nextBoolean() ? new float[] {0.85f, 0.85f, 0.80f} : new float[] {0.95f, 0.85f, 0.25f};
            c.fill(rotated(fish, cx, cy, angle), colour, stripes(s, 3, angle + Math.PI / 2), 0.5f, 1);
        }
        float redKept = 0.3f + 0.3f * rnd.nextFloat();
        c.cast(new float[] {redKept, 0.95f, 1.0f}, new float[] {0.10f, 0.45f, 0.50f}, 0.25f + 0.2f * rnd.nextFloat());
        c.grain(rnd, 0.03f);
    }

    private static void shapes(Raster c, Random rnd) {
        int s = c.size;
        float[] a = {rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()};
        float[] b = {rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()};
        float[] gradient = new float[s * s];
        double angle = rnd.nextDouble() * Math.PI * 2;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                gradient[y * s + x] = (float) (0.5 + 0.5 * ((x - s / 2.0) * Math.cos(angle) + (y - s / 2.0) * Math.sin(angle)) / s);
            }
        }
        c.background(a, b, gradient);
        int n = 2 + rnd.nextInt(MAX_SHAPES - 1);
        for (int id = 1; id <= n; id++) {
            double r = s * (0.06 + 0.16 * rnd.nextDouble());
            double cx = rnd.nextDouble() * s;
            double cy = rnd.nextDouble() * s;
            Shape shape = switch (rnd.nextInt(4)) {
                case 0 -> rotated(new Ellipse2D.Double(-r, -r * (0.5 + 0.5 * rnd.nextDouble()), 2 * r, 2 * r), cx, cy, rnd.nextDouble() * 3);
                case 1 -> rotated(new Rectangle2D.Double(-r, -r * 0.6, 2 * r, 1.2 * r), cx, cy, rnd.nextDouble() * 3);
                case 2 -> rotated(triangle(0, -r, r, r * 0.8, -r, r * 0.8), cx, cy, rnd.nextDouble() * 3);
                default -> rotated(star(5, r, r * 0.45), cx, cy, rnd.nextDouble() * 3);
            };
            float[] colour = {rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()};
            c.fill(shape, colour, null, 0, id);
        }
        c.grain(rnd, 0.02f);
    }

    // ---- geometry ----

    private static Shape rotated(Shape local, double cx, double cy, double angle) {
        AffineTransform t = new AffineTransform();
        t.translate(cx, cy);
        t.rotate(angle);
        return t.createTransformedShape(local);
    }

    /** An ellipse whose radius is modulated by a few random harmonics ({@code rough}: their relative size). */
    private static Shape wobbly(Random rnd, double cx, double cy, double a, double b, double angle, double rough) {
        double[] amp = {rnd.nextDouble() * rough, rnd.nextDouble() * rough / 2, rnd.nextDouble() * rough / 3};
        double[] phase = {rnd.nextDouble() * 6, rnd.nextDouble() * 6, rnd.nextDouble() * 6};
        Path2D.Double p = new Path2D.Double();
        int n = 48;
        for (int i = 0; i < n; i++) {
            double t = 2 * Math.PI * i / n;
            double k = 1 + amp[0] * Math.sin(2 * t + phase[0]) + amp[1] * Math.sin(3 * t + phase[1]) + amp[2] * Math.sin(5 * t + phase[2]);
            double x = a * k * Math.cos(t);
            double y = b * k * Math.sin(t);
            if (i == 0) {
                p.moveTo(x, y);
            } else {
                p.lineTo(x, y);
            }
        }
        p.closePath();
        return rotated(p, cx, cy, angle);
    }

    private static Path2D.Double triangle(double x0, double y0, double x1, double y1, double x2, double y2) {
        Path2D.Double p = new Path2D.Double();
        p.moveTo(x0, y0);
        p.lineTo(x1, y1);
        p.lineTo(x2, y2);
        p.closePath();
        return p;
    }

    private static Path2D.Double star(int points, double outer, double inner) {
        Path2D.Double p = new Path2D.Double();
        for (int i = 0; i < 2 * points; i++) {
            double r = i % 2 == 0 ? outer : inner;
            double t = Math.PI * i / points - Math.PI / 2;
            if (i == 0) {
                p.moveTo(r * Math.cos(t), r * Math.sin(t));
            } else {
                p.lineTo(r * Math.cos(t), r * Math.sin(t));
            }
        }
        p.closePath();
        return p;
    }

    /** A segment {@code width} wide from (x0, y0) to (x1, y1), as a quadrilateral. */
    private static Shape thickSegment(double x0, double y0, double x1, double y1, double width) {
        double dx = x1 - x0;
        double dy = y1 - y0;
        double len = Math.max(1e-9, Math.hypot(dx, dy));
        double nx = -dy / len * width / 2;
        double ny = dx / len * width / 2;
        // extend a little along the segment so consecutive pieces overlap at the joints
        double ex = dx / len * width / 2;
        double ey = dy / len * width / 2;
        Path2D.Double p = new Path2D.Double();
        p.moveTo(x0 - ex + nx, y0 - ey + ny);
        p.lineTo(x1 + ex + nx, y1 + ey + ny);
        p.lineTo(x1 + ex - nx, y1 + ey - ny);
        p.lineTo(x0 - ex - nx, y0 - ey - ny);
        p.closePath();
        return p;
    }

    /** Stripes in [0,1] across the image at {@code angle}, {@code period} pixels wide. */
    private static float[] stripes(int s, int period, double angle) {
        float[] out = new float[s * s];
        double cos = Math.cos(angle);
        double sin = Math.sin(angle);
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                out[y * s + x] = (float) (0.5 + 0.5 * Math.sin(2 * Math.PI * (x * cos + y * sin) / (2.0 * period)));
            }
        }
        return out;
    }
}
