package org.peft4j.models.vit;

/**
 * Module paths of the two ViT checkpoint conventions. Parameter names are these paths plus
 * {@code .weight}/{@code .bias}, so a checkpoint loads by plain name lookup, and adapters saved
 * from a model carry the names Hugging Face PEFT gives the same model.
 */
public enum VitNaming {
    /** transformers' ViTForImageClassification: separate query/key/value. */
    HF("vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
            "vit.embeddings.patch_embeddings.projection", "vit.encoder.layer.",
            "layernorm_before", "attention.attention.", "attention.output.dense",
            "layernorm_after", "intermediate.dense", "output.dense", "vit.layernorm", "classifier"),
    /** timm's VisionTransformer: one fused qkv linear. */
    TIMM("cls_token", "pos_embed", "patch_embed.proj", "blocks.",
            "norm1", "attn.", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2", "norm", "head");

    public final String clsToken;
    public final String posEmbed;
    public final String patchProjection;
    public final String layerPrefix;
    public final String norm1;
    /** Prefix of the q/k/v linears: {@code query}, {@code key}, {@code value} or {@code qkv}. */
    public final String attentionPrefix;
    public final String attentionOutput;
    public final String norm2;
    public final String fc1;
    public final String fc2;
    public final String finalNorm;
    public final String head;

    VitNaming(String clsToken, String posEmbed, String patchProjection, String layerPrefix,
              String norm1, String attentionPrefix, String attentionOutput, String norm2,
              String fc1, String fc2, String finalNorm, String head) {
        this.clsToken = clsToken;
        this.posEmbed = posEmbed;
        this.patchProjection = patchProjection;
        this.layerPrefix = layerPrefix;
        this.norm1 = norm1;
        this.attentionPrefix = attentionPrefix;
        this.attentionOutput = attentionOutput;
        this.norm2 = norm2;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.finalNorm = finalNorm;
        this.head = head;
    }

    public boolean fusedQkv() {
        return this == TIMM;
    }

    public String layer(int i) {
        return layerPrefix + i;
    }
}
