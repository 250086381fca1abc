package org.peft4j.demo;

import org.peft4j.data.FashionMnist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Makes sure Debian's Fashion-MNIST package is there, installing it with apt when allowed. */
final class DatasetInstaller {

    private static final Logger LOG = LoggerFactory.getLogger(DatasetInstaller.class);
    static final String PACKAGE = "dataset-fashion-mnist";

    private DatasetInstaller() {}

    static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz"))
                || Files.isRegularFile(dir.resolve("train-images-idx3-ubyte"));
    }

    /** Installs the package as root through apt; anyone else gets the command to run. */
    static void ensure(Path dir) throws IOException, InterruptedException {
        if (present(dir)) {
            return;
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean apt = Files.isExecutable(Path.of("/usr/bin/apt-get"));
        if (!dir.equals(FashionMnist.DEFAULT_DIR) || !root || !apt) {
            throw new IOException("Fashion-MNIST is not in " + dir + ". Install Debian's package as root: "
                    + "`apt-get install " + PACKAGE + "` (or pass --data-dir with the IDX files)");
        }
        LOG.info("installing {} with apt-get (Fashion-MNIST, ~30 MB)", PACKAGE);
        if (run(List.of("apt-get", "install", "-y", "-q", PACKAGE)) != 0) {
            // A fresh machine may have no package lists yet.
            run(List.of("apt-get", "update", "-q"));
            if (run(List.of("apt-get", "install", "-y", "-q", PACKAGE)) != 0) {
                throw new IOException("apt-get install " + PACKAGE + " failed; see the output above");
            }
        }
        if (!present(dir)) {
            throw new IOException(PACKAGE + " installed but " + dir + " has no IDX files");
        }
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        return pb.start().waitFor();
    }
}
