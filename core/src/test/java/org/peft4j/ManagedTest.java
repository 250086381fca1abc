package org.peft4j;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh NDManager for every test, freed after it (subclass set-up runs after this one's). */
public abstract class ManagedTest {

    protected NDManager manager;

    @BeforeEach
    final void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    final void closeManager() {
        manager.close();
    }
}
