package org.peft4j.cli;

import org.peft4j.data.FashionMnist;
import org.peft4j.demo.DemoReport;
import org.peft4j.demo.FashionMnistDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The built-in job: pretrain a small ViT on five Fashion-MNIST classes (cached), adapt it to "
                + "the other five with head-only, LoRA and full fine-tuning, and compare them.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--data-dir", description = "Fashion-MNIST IDX folder (default ${DEFAULT-VALUE}).")
    Path dataDir = FashionMnist.DEFAULT_DIR;

    @Option(names = "--cache", description = "Where the pretrained backbone is cached (default ~/.cache/peft4j).")
    Path cache;

    @Option(names = "--out", defaultValue = "runs/demo", description = "Results folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--per-class", defaultValue = "500", description = "Training images per downstream class.")
    int perClass;

    @Option(names = "--epochs", defaultValue = "5", description = "Fine-tuning epochs per method.")
    int epochs;

    @Option(names = "--pretrain-epochs", defaultValue = "" + FashionMnistDemo.PRETRAIN_EPOCHS)
    int pretrainEpochs;

    @Option(names = "--pretrain-per-class", defaultValue = "" + FashionMnistDemo.PRETRAIN_PER_CLASS)
    int pretrainPerClass;

    @Option(names = "--seed", defaultValue = "" + FashionMnistDemo.SEED)
    long seed;

    @Option(names = "--no-progress")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        Path cacheDir = cache != null ? cache : FashionMnistDemo.DEFAULT_CACHE_DIR;
        FashionMnistDemo.ensureData(dataDir);
        FashionMnistDemo.Report report = FashionMnistDemo.run(new FashionMnistDemo.Settings(dataDir, cacheDir, out,
                perClass, epochs, pretrainEpochs, pretrainPerClass, seed, !noProgress));
        DemoReport.write(report, out);
        System.out.println();
        Map<String, Object> b = report.backbone();
        System.out.println("Backbone: " + b.get("name") + " (" + String.join(", ", ((List<?>) b.get("classes")).stream()
                .map(String::valueOf).toList()) + "), test accuracy " + b.get("test_accuracy")
                + (Boolean.TRUE.equals(b.get("cached")) ? ", cached" : ""));
        System.out.println("Downstream: Fashion-MNIST " + "sandal, shirt, sneaker, bag, ankle boot; "
                + perClass + " training images per class");
        System.out.println();
        System.out.print(DemoReport.table(report.outcomes()));
        System.out.println();
        System.out.println("LoRA adapter (Hugging Face PEFT format): " + out.resolve("lora"));
        System.out.println("Results: " + out.resolve("results.json") + ", " + out.resolve("results.csv")
                + ", plots " + out.resolve("curves.png") + ", " + out.resolve("summary.png"));
        return 0;
    }
}
