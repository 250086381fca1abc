package org.peft4j.tuners;

import org.peft4j.nn.Module;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which modules a tuner wraps, with Hugging Face PEFT's rule: a string is a regular expression
 * that must match the whole module path; a list matches a path equal to an entry or ending in
 * {@code "." + entry}; {@code all-linear} takes every linear layer except the output head.
 * Exclusions follow the same rule (a list of names, or one full-match regex), and
 * {@code layersToTransform} restricts matches to the given block indices.
 */
public record TargetModules(List<String> names, String regex, List<String> exclude, String excludeRegex,
                            List<Integer> layersToTransform) {

    public static final String ALL_LINEAR = "all-linear";
    private static final Pattern LAYER_INDEX = Pattern.compile("\\.(\\d+)(\\.|$)");

    public TargetModules {
        if ((names == null) == (regex == null)) {
            throw new IllegalArgumentException("give target modules either as a list of names or as one regex");
        }
        names = names == null ? null : List.copyOf(names);
        exclude = exclude == null ? List.of() : List.copyOf(exclude);
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        if (regex != null) {
            Pattern.compile(regex); // fail early on a bad pattern
        }
        if (excludeRegex != null) {
            Pattern.compile(excludeRegex);
        }
    }

    public TargetModules(List<String> names, String regex, List<String> exclude, List<Integer> layersToTransform) {
        this(names, regex, exclude, null, layersToTransform);
    }

    public static TargetModules of(String... names) {
        return new TargetModules(List.of(names), null, null, null);
    }

    public static TargetModules regex(String regex) {
        return new TargetModules(null, regex, null, null);
    }

    public boolean isAllLinear() {
        return names != null && names.size() == 1 && names.get(0).equals(ALL_LINEAR);
    }

    /** Whether the module at {@code path} is targeted; {@code headPath} is never taken by all-linear. */
    public boolean matches(String path, String headPath) {
        if (matchesName(exclude, path) || (excludeRegex != null && path.matches(excludeRegex))) {
            return false;
        }
        boolean hit;
        if (regex != null) {
            hit = path.matches(regex);
        } else if (isAllLinear()) {
            hit = !path.equals(headPath);
        } else {
            hit = matchesName(names, path);
        }
        if (hit && layersToTransform != null) {
            hit = layersToTransform.contains(layerIndex(path));
        }
        return hit;
    }

    /** The block index of a module path: its first numeric segment ({@code blocks.3.attn.qkv} → 3), or −1. */
    public static int layerIndex(String path) {
        Matcher m = LAYER_INDEX.matcher(path);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * The modules of {@code type} in {@code model} that these targets select, by path, leaving out
     * modules_to_save (those train in full). Fails, naming candidates, when nothing matches: a
     * silent no-op would train only the head.
     */
    public <M> LinkedHashMap<String, M> select(Module model, Class<M> type, String headPath, List<String> modulesToSave) {
        Map<String, M> candidates = model.modulesOfType(type);
        LinkedHashMap<String, M> out = new LinkedHashMap<>();
        candidates.forEach((path, m) -> {
            if (matches(path, headPath) && !matchesName(modulesToSave, path)) {
                out.put(path, m);
            }
        });
        if (out.isEmpty()) {
            throw new IllegalArgumentException("target modules " + describe() + " match no " + type.getSimpleName()
                    + "; candidates are e.g. " + candidates.keySet().stream().limit(8).toList());
        }
        return out;
    }

    /** For messages: the regex or the name list. */
    public String describe() {
        return regex != null ? "'" + regex + "'" : names.toString();
    }

    /** PEFT's name rule, also used for modules_to_save: the path is the name or ends in ".name". */
    public static boolean matchesName(List<String> names, String path) {
        for (String n : names) {
            if (path.equals(n) || path.endsWith("." + n)) {
                return true;
            }
        }
        return false;
    }

    /**
     * PEFT's rank_pattern/alpha_pattern lookup: the first key whose regex matches the end of the
     * path at a dot boundary ({@code (.*\.)?key$}); null when none does.
     */
    public static String patternKey(Iterable<String> keys, String path) {
        for (String key : keys) {
            if (path.equals(key) || Pattern.compile("(.*\\.)?(" + key + ")$").matcher(path).matches()) {
                return key;
            }
        }
        return null;
    }
}
