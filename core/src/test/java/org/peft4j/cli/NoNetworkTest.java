package org.peft4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands need no network: each runs in a child JVM whose every socket goes through a SOCKS
 * proxy on a closed local port, so any connection attempt (DJL's downloads, trackers, a stray URL)
 * is refused at once; they must all still succeed. The child starts without DJL's offline flags:
 * the CLI sets them itself.
 */
class NoNetworkTest {

    /** Connects to {@code args[0]}:{@code args[1]}; exits 0 only if the connection was made. */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            try (java.net.Socket s = new java.net.Socket(args[0], Integer.parseInt(args[1]))) {
                System.exit(0);
            }
        }
    }

    /** The refusal itself is real: a child cannot reach a port this JVM listens on (a non-loopback address). */
    @Test
    void theChildJvmCannotConnect(@TempDir Path tmp) throws Exception {
        java.net.InetAddress address = java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
                .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
                .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress()).findFirst().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(address != null, "no network interface besides loopback");
        try (java.net.ServerSocket listening = new java.net.ServerSocket(0, 1, address)) {
            Process p = child(tmp.resolve("probe.log"), Probe.class.getName(), address.getHostAddress(),
                    String.valueOf(listening.getLocalPort()));
            assertTrue(p.waitFor(1, TimeUnit.MINUTES));
            assertTrue(p.exitValue() != 0, "a connection got through: " + ChildJvm.read(tmp.resolve("probe.log")));
        }
    }

    @Test
    void everyCommandSucceedsWithConnectionsRefused(@TempDir Path tmp) throws Exception {
        Path data = CliTest.shapesFolder(tmp.resolve("shapes"), 6);
        Path run = tmp.resolve("run");
        String folder = "folder:" + data;
        run(tmp, "train", "--model", "vit-tiny-test", "--data", folder, "--method", "lora", "--rank", "2",
                "--epochs", "1", "--batch-size", "4", "--no-progress", "--val-fraction", "0.25", "--out", run.toString());
        run(tmp, "eval", "--model", "vit-tiny-test", "--adapter", run.toString(), "--data", folder);
        run(tmp, "predict", "--model", "vit-tiny-test", "--adapter", run.toString(), "--input", data.resolve("disc").toString());
        run(tmp, "merge-and-unload", "--model", "vit-tiny-test", "--adapter", run.toString(), "--out", tmp.resolve("merged").toString());
        run(tmp, "bench", "--preset", "vit-tiny-test", "--mode", "infer", "--steps", "1", "--warmup-steps", "0");
        run(tmp, "segment", "--model", "sam-tiny", "--input", data.resolve("disc").resolve("disc0.png").toString(),
                "--point", "8,8", "--out", tmp.resolve("seg").toString());
        assertTrue(Files.isRegularFile(tmp.resolve("merged").resolve("model.safetensors")));
    }

    private static void run(Path tmp, String... cliArgs) throws IOException, InterruptedException {
        Path log = tmp.resolve(cliArgs[0] + ".log");
        List<String> args = new ArrayList<>(List.of(Main.class.getName()));
        args.addAll(List.of(cliArgs));
        Process p = child(log, args.toArray(String[]::new));
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), cliArgs[0] + " did not finish");
        assertEquals(0, p.exitValue(), () -> cliArgs[0] + " failed:\n" + ChildJvm.read(log));
    }

    /** A JVM whose sockets all go through a SOCKS proxy on a closed port (9); Java exempts loopback. */
    private static Process child(Path log, String... mainAndArgs) throws IOException {
        return ChildJvm.start(List.of("-Xmx1g", "-DsocksProxyHost=127.0.0.1", "-DsocksProxyPort=9",
                "-Dai.djl.pytorch.num_threads=1"), List.of(mainAndArgs), log, false);
    }
}
