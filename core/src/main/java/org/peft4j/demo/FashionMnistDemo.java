package org.peft4j.demo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.peft4j.data.DataSpec;
import org.peft4j.data.FashionMnist;
import org.peft4j.data.ImageDataset;
import org.peft4j.data.ImageDatasets;
import org.peft4j.io.AtomicFiles;
import org.peft4j.io.Json;
import org.peft4j.models.vit.VitCheckpoint;
import org.peft4j.models.vit.VitConfig;
import org.peft4j.models.vit.VitForImageClassification;
import org.peft4j.models.vit.VitPresets;
import org.peft4j.tuners.TargetModules;
import org.peft4j.train.FineTuning;
import org.peft4j.train.TrainConfig;
import org.peft4j.tuners.lora.LoraConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in job. A small ViT is pretrained on the upper-body garments of Fashion-MNIST
 * (T-shirt, trouser, pullover, dress, coat) and cached; it is then adapted to the other five
 * classes (sandal, shirt, sneaker, bag, ankle boot) from a few hundred images per class, three
 * ways: head only (frozen backbone), LoRA on query/value plus the head, and full fine-tuning.
 */
public final class FashionMnistDemo {

    private static final Logger LOG = LoggerFactory.getLogger(FashionMnistDemo.class);
    public static final List<Integer> PRETRAIN_CLASSES = List.of(0, 1, 2, 3, 4);
    static final List<Integer> DOWNSTREAM_CLASSES = List.of(5, 6, 7, 8, 9);
    /** Bump when the pretraining recipe changes, so stale cached backbones are not reused. */
    public static final String BACKBONE_NAME = "vit-fmnist-garments-v1";
    /** The backbone's architecture. */
    public static final String BACKBONE_PRESET = "vit-fmnist-demo";
    /** The demo's pretraining recipe (its CLI defaults), which the cached backbone is made with. */
    public static final int PRETRAIN_EPOCHS = 4;
    public static final int PRETRAIN_PER_CLASS = 3000;
    public static final long SEED = 42;
    public static final Path DEFAULT_CACHE_DIR = Path.of(System.getProperty("user.home"), ".cache", "peft4j");

    /** What a run can change; defaults are sized for ~10 minutes on 2 cores, pretraining included. */
    public record Settings(Path dataDir, Path cacheDir, Path outDir, int perClass, int epochs, int pretrainEpochs,
                           int pretrainPerClass, long seed, boolean progress) {}

    public record Report(Map<String, Object> backbone, List<FineTuning.Outcome> outcomes, Path outDir) {}

    /** The project's pretrained backbone: its model folder in the cache and its pretraining record. */
    public record Backbone(Path dir, Map<String, Object> record) {}

    private FashionMnistDemo() {}

    public static Report run(Settings s) throws IOException {
        Engine.getInstance().setRandomSeed((int) s.seed());
        Map<String, Object> backbone = ensureBackbone(s);
        ImageDataset train = ImageDatasets.selectClasses(FashionMnist.load(s.dataDir(), true), DOWNSTREAM_CLASSES);
        ImageDataset test = ImageDatasets.selectClasses(FashionMnist.load(s.dataDir(), false), DOWNSTREAM_CLASSES);
        ImageDataset[] trainVal = ImageDatasets.splitTrainVal(train, 0.1, s.seed());
        ImageDataset few = ImageDatasets.limitPerClass(trainVal[0], s.perClass(), s.seed());
        DataSpec.Splits splits = new DataSpec.Splits(few, ImageDatasets.limitPerClass(trainVal[1], 200, s.seed()), test);
        LOG.info("downstream task: {} ({} training images, {} validation, {} test)",
                train.classes(), few.size(), splits.val().size(), test.size());

        List<FineTuning.Outcome> outcomes = new ArrayList<>();
        Path backboneDir = s.cacheDir().resolve(BACKBONE_NAME);
        for (String method : List.of("head", "lora", "full")) {
            LOG.info("fine-tuning: {}", method);
            try (NDManager manager = NDManager.newBaseManager()) {
                Engine.getInstance().setRandomSeed((int) s.seed());
                VitForImageClassification vit = VitCheckpoint.load(backboneDir, manager,
                        new VitCheckpoint.Options(few.classes(), null));
                LoraConfig lora = LoraConfig.of(8, 16, TargetModules.of("query", "value"))
                        .withModulesToSave(List.of(vit.headPath()));
                TrainConfig config = new TrainConfig(s.epochs(), 32, learningRate(method), 0.01, 0.1, 1, 1.0,
                        s.seed(), 20, true);
                outcomes.add(FineTuning.run(vit, method, method.equals("lora") ? lora : null, config, splits,
                        s.outDir().resolve(method),
                        manager, s.progress(), false));
            }
        }
        return new Report(backbone, outcomes, s.outDir());
    }

    /** Installs Debian's Fashion-MNIST package when it is missing and we may (root + apt). */
    public static void ensureData(Path dataDir) throws IOException, InterruptedException {
        DatasetInstaller.ensure(dataDir);
    }

    /**
     * The cached backbone, pretrained first with the demo's default recipe when the cache has none;
     * the same folder the demo uses, so either one pretrains it for the other.
     */
    public static Backbone backbone(Path dataDir, Path cacheDir, boolean progress) throws IOException {
        Settings s = new Settings(dataDir, cacheDir, null, 0, 0, PRETRAIN_EPOCHS, PRETRAIN_PER_CLASS, SEED, progress);
        Engine.getInstance().setRandomSeed((int) s.seed()); // as run() does, so both pretrain the same weights
        Map<String, Object> record = ensureBackbone(s);
        return new Backbone(cacheDir.resolve(BACKBONE_NAME), record);
    }

    /** Peak learning rates that suit each method here (a head alone tolerates a larger step). */
    static double learningRate(String method) {
        return switch (method) {
            case "head" -> 5e-3;
            case "lora" -> 3e-3;
            case "full" -> 1e-3;
            default -> throw new IllegalArgumentException(method);
        };
    }

    /** Loads the cached backbone's record, pretraining it first when the cache has none. */
    static Map<String, Object> ensureBackbone(Settings s) throws IOException {
        Path dir = s.cacheDir().resolve(BACKBONE_NAME);
        Path record = dir.resolve("pretraining.json");
        if (Files.isRegularFile(record) && Files.isRegularFile(dir.resolve(VitCheckpoint.WEIGHTS_FILE))) {
            LOG.info("using the cached pretrained backbone in {}", dir);
            @SuppressWarnings("unchecked")
            Map<String, Object> m = Json.MAPPER.readValue(record.toFile(), Map.class);
            m.put("cached", true);
            return m;
        }
        LOG.info("pretraining the backbone on {} (cached in {} for later runs)",
                PRETRAIN_CLASSES.stream().map(FashionMnist.CLASSES::get).toList(), dir);
        ImageDataset all = ImageDatasets.selectClasses(FashionMnist.load(s.dataDir(), true), PRETRAIN_CLASSES);
        ImageDataset[] trainVal = ImageDatasets.splitTrainVal(all, 0.05, s.seed());
        ImageDataset train = ImageDatasets.limitPerClass(trainVal[0], s.pretrainPerClass(), s.seed());
        ImageDataset test = ImageDatasets.selectClasses(FashionMnist.load(s.dataDir(), false), PRETRAIN_CLASSES);
        Files.createDirectories(s.cacheDir());
        Path work = Files.createTempDirectory(s.cacheDir(), ".pretrain-");
        try (NDManager manager = NDManager.newBaseManager()) {
            VitConfig config = VitPresets.get(BACKBONE_PRESET).withLabels(train.classes());
            VitForImageClassification vit = new VitForImageClassification(config);
            vit.initialize(manager);
            TrainConfig tc = new TrainConfig(s.pretrainEpochs(), 64, 2e-3, 0.05, 0.1, 1, 1.0, s.seed(), 50, true);
            FineTuning.Outcome o = FineTuning.run(vit, "full", null, tc,
                    new DataSpec.Splits(train, trainVal[1], test), work, manager, s.progress(), false);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", BACKBONE_NAME);
            m.put("classes", train.classes());
            m.put("train_images", train.size());
            m.put("epochs", s.pretrainEpochs());
            m.put("test_accuracy", o.testAccuracy());
            m.put("seconds", o.seconds());
            AtomicFiles.writeString(work.resolve("pretraining.json"), Json.toPythonStyle(m) + "\n");
            AtomicFiles.replaceDirectory(dir, tmp -> {
                for (String f : List.of("config.json", VitCheckpoint.WEIGHTS_FILE, "pretraining.json", "metrics.jsonl")) {
                    Files.copy(work.resolve(f), tmp.resolve(f));
                }
            });
            m.put("cached", false);
            return m;
        } finally {
            deleteRecursively(work);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
