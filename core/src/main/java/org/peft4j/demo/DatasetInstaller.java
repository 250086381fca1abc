package org.peft4j.demo;

import org.peft4j.data.FashionMnist;
import org.peft4j.data.text.TextCorpus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/** Makes sure a Debian data package (Fashion-MNIST, fortunes) is there, installing it with apt when allowed. */
public final class DatasetInstaller {

    private static final Logger LOG = LoggerFactory.getLogger(DatasetInstaller.class);
    static final String PACKAGE = "dataset-fashion-mnist";

    /**
     * A Debian package that puts data in {@code defaultDir}.
     *
     * @param name        what the data is called in messages
     * @param size        its download size, for the log line
     * @param files       what {@code present} looks for, for the error after an install
     * @param present     whether a folder holds the data
     * @param alternative how to use the data without the package, for the error message
     */
    public record DebianData(String name, String packageName, String size, Path defaultDir, String files,
                             Predicate<Path> present, String alternative) {}

    static final DebianData FASHION_MNIST = new DebianData("Fashion-MNIST", PACKAGE, "~30 MB", FashionMnist.DEFAULT_DIR,
            "IDX files", DatasetInstaller::present, "or pass --data-dir with the IDX files");

    /**
     * English fortunes for language-model pretraining. {@code computers} is one of the files of the
     * full {@code fortunes} package: {@code fortunes-min} alone puts only three files in the folder.
     */
    public static final DebianData FORTUNES = new DebianData("Debian's fortunes", "fortunes", "~3 MB", TextCorpus.DEFAULT_DIR,
            "fortune files", dir -> Files.isRegularFile(dir.resolve("computers")),
            "or give a folder of files whose texts are separated by lines holding only %");

    private DatasetInstaller() {}

    static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz"))
                || Files.isRegularFile(dir.resolve("train-images-idx3-ubyte"));
    }

    /** {@link #ensure(DebianData, Path)} for Fashion-MNIST. */
    static void ensure(Path dir) throws IOException, InterruptedException {
        ensure(FASHION_MNIST, dir);
    }

    /**
     * Installs the package as root through apt when {@code dir} is the package's own folder and
     * lacks the data; anyone else, or any other folder, gets the command to run.
     */
    public static void ensure(DebianData data, Path dir) throws IOException, InterruptedException {
        if (data.present().test(dir)) {
            return;
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean apt = Files.isExecutable(Path.of("/usr/bin/apt-get"));
        String pkg = data.packageName();
        if (!dir.equals(data.defaultDir()) || !root || !apt) {
            throw new IOException(data.name() + " is not in " + dir + ". Install Debian's package as root: "
                    + "`apt-get install " + pkg + "` (" + data.alternative() + ")");
        }
        LOG.info("installing {} with apt-get ({}, {})", pkg, data.name(), data.size());
        if (run(List.of("apt-get", "install", "-y", "-q", pkg)) != 0) {
            // A fresh machine may have no package lists yet.
            run(List.of("apt-get", "update", "-q"));
            if (run(List.of("apt-get", "install", "-y", "-q", pkg)) != 0) {
                throw new IOException("apt-get install " + pkg + " failed; see the output above");
            }
        }
        if (!data.present().test(dir)) {
            throw new IOException(pkg + " installed but " + dir + " has no " + data.files());
        }
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        return pb.start().waitFor();
    }
}
