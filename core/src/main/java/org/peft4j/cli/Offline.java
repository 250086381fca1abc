package org.peft4j.cli;

/**
 * Keeps DJL from calling home: without these, the first engine load contacts cloud metadata and
 * telemetry endpoints (DJL-NOTES). Environment variables can only be set by the launcher, so the
 * system property, which DJL also honours, is forced here too.
 */
final class Offline {

    private Offline() {}

    static void enforce() {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}
