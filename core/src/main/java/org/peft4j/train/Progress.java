package org.peft4j.train;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars with rate and ETA; redrawn rarely when the output is not a terminal (CI logs). */
public final class Progress {

    private Progress() {}

    public static ProgressBar bar(String task, long max) {
        boolean terminal = System.console() != null;
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setStyle(terminal ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 250 : 10_000)
                .showSpeed()
                .setUnit(" it", 1)
                .continuousUpdate()
                .build();
    }
}
