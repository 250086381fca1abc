package org.peft4j.data.suite;

import java.util.Locale;

/** VTAB's three task groups. */
public enum TaskGroup {
    NATURAL, SPECIALIZED, STRUCTURED;

    /** The lower-case name used in JSON and labels: "natural", "specialized", "structured". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
