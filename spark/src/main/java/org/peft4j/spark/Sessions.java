package org.peft4j.spark;

import org.apache.spark.sql.SparkSession;

/** Spark sessions as peft4j starts them: no UI, no console progress, loopback driver for local masters. */
public final class Sessions {

    private Sessions() {}

    /** A session, stopped on close only if this call created it (a caller's own session is left running). */
    public record Lease(SparkSession session, boolean created) implements AutoCloseable {
        @Override
        public void close() {
            if (created) {
                session.stop();
            }
        }
    }

    /** A session on {@code master} ({@code local[N]} or a cluster URL; spark-submit's own master wins). */
    public static SparkSession start(String master, String app) {
        SparkSession.Builder b = SparkSession.builder().appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "8");
        if (master != null) {
            b.master(master);
            if (master.startsWith("local")) {
                b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
            }
        }
        return b.getOrCreate();
    }

    /** The active session if there is one (a test's, a notebook's), else a new one on {@code master}. */
    public static Lease lease(String master, String app) {
        boolean existed = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
        return new Lease(start(master, app), !existed);
    }
}
