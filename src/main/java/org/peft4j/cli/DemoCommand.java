package org.peft4j.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The built-in end-to-end job: pretrain a small ViT, then compare LoRA, head-only and full fine-tuning.")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        throw new UnsupportedOperationException("demo: in progress");
    }
}
