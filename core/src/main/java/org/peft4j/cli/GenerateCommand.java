package org.peft4j.cli;

import ai.djl.ndarray.NDManager;
import org.peft4j.io.Json;
import org.peft4j.models.text.TextTokenizer;
import org.peft4j.models.text.Generator;
import org.peft4j.models.text.TextConfig;
import org.peft4j.nn.ForwardContext;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt with a decoder text model (GPT-2): greedy, or beam search with --beams K. "
                + "Prints one JSON line {\"ids\":[...],\"text\":\"...\"}: the generated ids (the prompt left out; the "
                + "config's eos_token_id, when generation stops at it, is the last id), and their text when the model "
                + "folder has a tokenizer.json (eos left out)."})
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Text model folder (config.json with model_type gpt2 + model.safetensors; tokenizer.json optional).")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "Adapter folder (PEFT format) for the model.")
    Path adapter;

    @Option(names = "--image", paramLabel = "IMG", description = "Image for a vision-language adapter.")
    Path image;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true,
                description = "Prompt text, tokenized with the model folder's tokenizer.json.")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "ID,ID,...", required = true, description = "Prompt token ids.")
        String ids;
    }

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N", description = "Tokens to generate at most.")
    int maxNewTokens;

    @Option(names = "--beams", defaultValue = "1", paramLabel = "K", description = "Beam width; 1 (default) is greedy.")
    int beams;

    @Option(names = "--no-cache", description = "Recompute the whole sequence every step instead of using the key/value "
            + "cache (greedy only; for checking).")
    boolean noCache;

    @Override
    public Integer call() throws Exception {
        if (image != null && adapter == null) {
            throw new UsageException("--image needs --adapter: a vision-language adapter trained with train --task caption");
        }
        if (maxNewTokens < 1) {
            throw new UsageException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        }
        if (beams < 1) {
            throw new UsageException("--beams must be at least 1, got " + beams);
        }
        if (noCache && beams > 1) {
            throw new UsageException("--no-cache works with greedy decoding only (--beams 1); beam search always uses the cache");
        }
        TextConfig config = TextModels.config(model, "--model");
        if (!config.type().causal()) {
            throw new UsageException("--model " + model + " is a " + config.type().modelType
                    + " encoder: it cannot generate text (a decoder such as gpt2 can)");
        }
        try (TextTokenizer tokenizer = openTokenizer(Path.of(model), config)) {
            long[] promptIds;
            String what;
            if (prompt.text != null) {
                if (tokenizer == null) {
                    throw new UsageException("--prompt needs " + Path.of(model).resolve(TextTokenizer.FILE)
                            + " to tokenize the text; it is not there (give --prompt-ids instead)");
                }
                promptIds = tokenizer.encode(prompt.text);
                if (promptIds.length == 0) {
                    throw new UsageException("--prompt '" + prompt.text + "' gives no tokens with " + Path.of(model).resolve(TextTokenizer.FILE));
                }
                what = "--prompt";
            } else {
                promptIds = TextModels.parseIds("--prompt-ids", prompt.ids, config);
                what = "--prompt-ids";
            }
            if (promptIds.length + (long) maxNewTokens > config.contextLength()) {
                throw new UsageException(what + ": " + promptIds.length + " prompt tokens plus --max-new-tokens " + maxNewTokens
                        + " exceed the model's context of " + config.contextLength() + " (n_positions in "
                        + Path.of(model).resolve("config.json") + ")");
            }
            int eos = config.eosTokenId();
            long[] ids;
            try (NDManager manager = NDManager.newBaseManager()) {
                if (image != null) {
                    ids = VisionLanguageCommands.caption(Path.of(model), adapter, image, promptIds, maxNewTokens, beams, eos,
                            !noCache, manager);
                } else {
                TextModels.Loaded loaded = TextModels.load(model, config, adapter, manager);
                if (beams == 1) {
                    ids = Generator.greedy(loaded.model(), null, new long[][] {promptIds}, maxNewTokens, eos, !noCache,
                            b -> ForwardContext.INFERENCE, manager).get(0);
                } else {
                    ids = Generator.beam(loaded.model(), null, promptIds, maxNewTokens, beams, eos,
                            b -> ForwardContext.INFERENCE, manager).ids();
                }
                }
            }
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("ids", ids);
            if (tokenizer != null) {
                line.put("text", tokenizer.decode(ids, eos));
            }
            System.out.println(Json.MAPPER.writeValueAsString(line));
        }
        return 0;
    }

    /** The folder's tokenizer.json (checked against the model's vocabulary), or null when it has none. */
    private static TextTokenizer openTokenizer(Path dir, TextConfig config) {
        if (!TextTokenizer.exists(dir)) {
            return null;
        }
        try {
            return TextTokenizer.load(dir, config.vocabSize());
        } catch (java.io.IOException e) {
            throw new UsageException(e.getMessage().lines().findFirst().orElse(""));
        }
    }
}
