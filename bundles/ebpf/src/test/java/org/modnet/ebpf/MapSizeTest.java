package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.Verifier;

/** Found by the elf fuzzer: a map too big for memory threw OutOfMemoryError out of BPF_MAP_CREATE. */
class MapSizeTest {
    @Test
    void aValueLargerThanKmallocMaxSizeIsE2big() {
        BpfException e = assertThrows(BpfException.class, () -> BpfMapBase.create("m", Verifier.MAP_ARRAY, 4, (4 << 20) + 1, 1, 0, 1));
        assertTrue(e.getMessage().contains("E2BIG"), e.getMessage());
    }

    @Test
    void aMapThatDoesNotFitInMemoryIsEnomemNotAnError() {
        BpfException e = assertThrows(BpfException.class, () -> BpfMapBase.create("m", Verifier.MAP_ARRAY, 4, 4 << 20, 1 << 20, 0, 1));
        assertTrue(e.getMessage().contains("ENOMEM"), e.getMessage());
    }

    @Test
    void theLargestValueStillMakesAMap() throws Exception {
        assertEquals(4 << 20, BpfMapBase.create("m", Verifier.MAP_ARRAY, 4, 4 << 20, 1, 0, 1).valueSize());
    }
}
