package org.peft4j.tuners.mopeft;

import org.peft4j.nn.BlockHooks;
import org.peft4j.nn.HookedBlock;
import org.peft4j.nn.LinearLayer;
import org.peft4j.nn.Module;
import org.peft4j.tuners.Blocks;
import org.peft4j.tuners.Injection;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MoPEFT's injection rule: in every chosen block, a {@link BlockGates} on the key/value hook point,
 * a {@link GatedLora} on the block's query and value projections (or its fused qkv), and a
 * {@link GatedAdapter} on the MLP branch; prefixes and visual prompts live in the {@link BlockGates}.
 */
public final class MopeftModel {

    private MopeftModel() {}

    static Injection inject(Module model, MopeftConfig config) {
        Map<String, HookedBlock> blocks = Blocks.select(model, config.layers());
        Injection injection = new Injection();
        for (Map.Entry<String, HookedBlock> e : blocks.entrySet()) {
            BlockHooks hooks = e.getValue().blockHooks();
            BlockGates gates = new BlockGates(e.getValue(), config);
            injection.place(e.getKey(), hooks.keyValues(), gates);
            if (config.has("lora")) {
                placeLora(injection, e.getKey(), (Module) e.getValue(), gates, config.rank());
            }
            if (config.has("adapter")) {
                injection.place(e.getKey(), hooks.mlpBranch(), new GatedAdapter(hooks.dim(), config.bottleneck(), gates));
            }
        }
        return injection;
    }

    /** The block's q and v projections: a fused {@code qkv}, or separate ones named query/q_proj and value/v_proj. */
    private static void placeLora(Injection injection, String blockPath, Module block, BlockGates gates, int rank) {
        Map<String, LinearLayer> linears = new LinkedHashMap<>();
        block.modulesOfType(LinearLayer.class).forEach((p, l) -> linears.put(p, l));
        boolean placed = false;
        for (Map.Entry<String, LinearLayer> l : linears.entrySet()) {
            String name = l.getKey().substring(l.getKey().lastIndexOf('.') + 1);
            String path = Module.join(blockPath, l.getKey());
            if (name.equals("qkv")) {
                injection.place(path, l.getValue().hooks(), new GatedLora(l.getValue(), gates, rank, true, false));
                placed = true;
            } else if (List.of("query", "q_proj").contains(name)) {
                injection.place(path, l.getValue().hooks(), new GatedLora(l.getValue(), gates, rank, false, false));
                placed = true;
            } else if (List.of("value", "v_proj").contains(name)) {
                injection.place(path, l.getValue().hooks(), new GatedLora(l.getValue(), gates, rank, false, true));
            }
        }
        if (!placed) {
            throw new IllegalArgumentException("block '" + blockPath + "' has no qkv, query or q_proj linear for MoPEFT's LoRA");
        }
    }

    /** The mean value of every gate over the forward passes outside training since the last call, by block and submodule; then reset. */
    public static Map<String, Map<String, Double>> gateSummary(List<Injection.Placement<?>> placements) {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        for (Injection.Placement<?> pl : placements) {
            Map<String, Double> block = out.computeIfAbsent(pl.path().replaceAll("\\.(attn\\.qkv|attention\\.attention\\.(query|value))$", ""),
                    k -> new LinkedHashMap<>());
            if (pl.hook() instanceof BlockGates g) {
                put(block, "lora_q", g.loraQ);
                put(block, "lora_v", g.loraV);
                put(block, "prefix", g.prefix);
                put(block, "vpt", g.vpt);
                if (g.centralCount > 0) {
                    for (String sub : List.copyOf(g.submodulesForReport())) {
                        block.put("central_" + sub, g.centralSum[g.column(sub)] / g.centralCount);
                    }
                    java.util.Arrays.fill(g.centralSum, 0);
                    g.centralCount = 0;
                }
            } else if (pl.hook() instanceof GatedAdapter a) {
                put(block, "adapter", a.gate);
            }
        }
        out.values().removeIf(Map::isEmpty);
        return out;
    }

    private static void put(Map<String, Double> block, String name, Gate g) {
        if (g != null) {
            block.put(name, g.mean());
            g.reset();
        }
    }
}
