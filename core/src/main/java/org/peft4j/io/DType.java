package org.peft4j.io;

/** Element types of a safetensors file that peft4j reads and writes. */
public enum DType {
    F32("F32", 4, 11, true),
    F16("F16", 2, 7, true),
    BF16("BF16", 2, 8, true),
    F64("F64", 8, 12, true),
    I64("I64", 8, 13, false),
    I32("I32", 4, 9, false),
    I16("I16", 2, 5, false),
    I8("I8", 1, 2, false),
    U8("U8", 1, 1, false),
    BOOL("BOOL", 1, 0, false);

    private final String safetensorsName;
    private final int byteSize;
    // Position in the Rust `safetensors::Dtype` enum, which is declared in increasing alignment
    // order; the reference writer lays tensors out by descending rank, then by name.
    private final int layoutRank;
    private final boolean floatingPoint;

    DType(String safetensorsName, int byteSize, int layoutRank, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.layoutRank = layoutRank;
        this.floatingPoint = floatingPoint;
    }

    /** The name used in the "dtype" field of a safetensors header. */
    public String safetensorsName() {
        return safetensorsName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    int layoutRank() {
        return layoutRank;
    }

    /** The dtype with the given safetensors name, or null when peft4j does not know it. */
    public static DType fromSafetensorsName(String name) {
        for (DType dtype : values()) {
            if (dtype.safetensorsName.equals(name)) {
                return dtype;
            }
        }
        return null;
    }
}
