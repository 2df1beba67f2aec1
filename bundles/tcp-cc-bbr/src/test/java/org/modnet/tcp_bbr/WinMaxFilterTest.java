package org.modnet.tcp_bbr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WinMaxFilterTest {
    @Test
    void theMaximumHoldsForTheWindowThenTheNextBestTakesOver() {
        WinMaxFilter f = new WinMaxFilter();
        f.reset(0, 0);
        f.update(10, 1, 100);
        for (int t = 2; t <= 11; t++) {
            assertEquals(100, f.update(10, t, 50), "round " + t);
        }
        assertEquals(50, f.update(10, 12, 50), "the 100 aged out after 10 rounds");
    }

    @Test
    void aNewMaximumReplacesEverything() {
        WinMaxFilter f = new WinMaxFilter();
        f.reset(0, 10);
        assertEquals(30, f.update(10, 1, 30));
        assertEquals(30, f.update(10, 2, 20));
    }
}
